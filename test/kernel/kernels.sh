# Sourced by test/kernel/run.sh: the Debian kernels the kernel test boots,
# by name, and how to install each (image and headers) if it is missing.
#
#   6.1      Debian 12's kernel (linux-image-amd64, linux-headers-amd64)
#   6.1-rt   its PREEMPT_RT flavour (linux-image-rt-amd64, linux-headers-rt-amd64)
#   6.12     the newest 6.12 of the bookworm-backports suite, installed by
#            exact package name from that suite only (see ktest_backports)
#
# A name may end in "+own": the same kernel with the module's own hash-table
# walkers forced (make KNETSTAT_OWN_ITER=1).
#
# ktest_kernel NAME sets KVER, VMLINUZ, KDIR and MODDIR, installing the
# packages first when the kernel is not there; it returns 1 (with a message
# on stderr) when it cannot.

KTEST_BPO_SOURCES=/etc/apt/sources.list.d/knetstat-kernel-test-backports.sources
KTEST_BPO_PREFS=/etc/apt/preferences.d/knetstat-kernel-test-backports

ktest_apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The newest installed kernel image matching a glob, as its version.
ktest_installed() {
	local f
	f=$(compgen -G "/boot/vmlinuz-$1" | sort -V | tail -1) || return 1
	[ -n "$f" ] && echo "${f#/boot/vmlinuz-}"
}

# Adds bookworm-backports to apt with a pin that lets only Debian's 6.12
# kernel image, headers and kbuild packages come from it (priority 500 for
# those, -1 for everything else, so nothing else is ever installed or
# upgraded from it). Idempotent: rewrites the two files only when they
# differ, and refreshes the package lists only when they changed or the
# suite's lists are missing.
ktest_backports() {
	local sources prefs changed=
	sources=$(
		cat <<-'EOF'
			# knetstat-java kernel test (test/kernel/kernels.sh): Debian's 6.12
			# kernel image and headers only. knetstat-kernel-test-backports in
			# /etc/apt/preferences.d keeps every other package of the suite out.
			Types: deb
			URIs: http://deb.debian.org/debian
			Suites: bookworm-backports
			Components: main
			Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
	)
	prefs=$(
		cat <<-'EOF'
			Explanation: knetstat-java kernel test (test/kernel/kernels.sh): Debian's 6.12
			Explanation: kernel image, headers and kbuild from bookworm-backports...
			Package: /^linux-(image|headers|kbuild)-6\.12\.[0-9]+\+deb12(-common|-amd64|-amd64-unsigned)?$/
			Pin: release n=bookworm-backports
			Pin-Priority: 500

			Explanation: ...and nothing else from that suite.
			Package: *
			Pin: release n=bookworm-backports
			Pin-Priority: -1
		EOF
	)
	if [ "$(cat "$KTEST_BPO_SOURCES" 2>/dev/null)" != "$sources" ]; then
		echo "$sources" >"$KTEST_BPO_SOURCES"
		changed=1
	fi
	if [ "$(cat "$KTEST_BPO_PREFS" 2>/dev/null)" != "$prefs" ]; then
		echo "$prefs" >"$KTEST_BPO_PREFS"
		changed=1
	fi
	if [ -n "$changed" ] || ! compgen -G '/var/lib/apt/lists/*_dists_bookworm-backports_main_binary-amd64_Packages*' >/dev/null; then
		apt-get update -qq >/dev/null
	fi
}

# The newest 6.12 headers package that bookworm-backports has (name only).
ktest_backports_pkg() {
	apt-cache madison linux-headers-amd64 2>/dev/null |
		awk -F' *[|] *' '$3 ~ /bookworm-backports/ { print $2 }' | sort -V | tail -1 |
		xargs -r -I{} apt-cache show 'linux-headers-amd64={}' 2>/dev/null |
		sed -n 's/^Depends: \(linux-headers-6\.12\.[0-9]*+deb12-amd64\) .*/\1/p' | head -1
}

ktest_kernel() {
	local name=${1%+own} pkg
	case $name in
	6.1)
		KVER=$(ktest_installed '6.1.0-*[0-9]-amd64') || KVER=
		if [ -z "$KVER" ] || [ ! -d "/usr/src/linux-headers-$KVER" ]; then
			ktest_apt_install linux-image-amd64 linux-headers-amd64
			KVER=$(ktest_installed '6.1.0-*[0-9]-amd64')
		fi
		;;
	6.1-rt)
		KVER=$(ktest_installed '6.1.0-*-rt-amd64') || KVER=
		if [ -z "$KVER" ] || [ ! -d "/usr/src/linux-headers-$KVER" ]; then
			ktest_apt_install linux-image-rt-amd64 linux-headers-rt-amd64
			KVER=$(ktest_installed '6.1.0-*-rt-amd64')
		fi
		;;
	6.12)
		KVER=$(ktest_installed '6.12.*+deb12-amd64') || KVER=
		if [ -z "$KVER" ] || [ ! -d "/usr/src/linux-headers-$KVER" ]; then
			ktest_backports
			pkg=$(ktest_backports_pkg)
			[ -n "$pkg" ] || { echo "no 6.12 kernel headers in bookworm-backports" >&2; return 1; }
			ktest_apt_install "${pkg/headers/image}" "$pkg"
			KVER=$(ktest_installed '6.12.*+deb12-amd64')
		fi
		;;
	*)
		echo "unknown kernel '$1' (known: 6.1 6.1-rt 6.12, each also with +own)" >&2
		return 1
		;;
	esac
	[ -n "$KVER" ] || { echo "kernel $name: not installed" >&2; return 1; }
	VMLINUZ=/boot/vmlinuz-$KVER
	KDIR=/usr/src/linux-headers-$KVER
	MODDIR=/lib/modules/$KVER/kernel
	[ -d "$KDIR" ] || { echo "kernel $name: no headers at $KDIR" >&2; return 1; }
}
