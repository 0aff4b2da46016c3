#!/usr/bin/env bash
# Fetch a newer Debian kernel (image, headers, kbuild) from bookworm-backports
# into test/.work/kernel-bpo/root without installing it or touching the
# machine's apt sources (a private sources list and lists directory), so
# that test/kernel/run.sh can build the module for it and boot it:
#
#   eval "$(bash test/kernel/fetch-backports-kernel.sh)"   # exports KTEST_KERNEL, KTEST_MODROOT, KTEST_KDIR
#   npm run test:kernel
#
# Prints the three export lines on stdout; progress on stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=$ROOT/test/.work/kernel-bpo
mkdir -p "$B/lists/partial" "$B/cache/archives/partial" "$B/debs" "$B/root"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main" >"$B/sources.list"
APT=(-o "Dir::Etc::SourceList=$B/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$B/lists" -o "Dir::Cache=$B/cache")
apt-get "${APT[@]}" update -qq >&2
# Newest linux-headers-<ver>-amd64 of the backports suite.
PKG=$(apt-cache "${APT[@]}" search --names-only '^linux-headers-[0-9.]+\+.*-amd64$' |
	awk '{ print $1 }' | grep -v -e cloud -e rt | sort -V | tail -1)
[ -n "$PKG" ] || { echo "no backports kernel headers found" >&2; exit 1; }
KVER=${PKG#linux-headers-}
ABI=${KVER%-amd64}
echo "fetching Debian kernel $KVER" >&2
(cd "$B/debs" && apt-get "${APT[@]}" download -qq "linux-image-$KVER-unsigned" \
	"linux-headers-$KVER" "linux-headers-$ABI-common" "linux-kbuild-$ABI" 2>/dev/null >&2)
for d in "$B"/debs/*"${ABI}"*.deb; do dpkg-deb -x "$d" "$B/root"; done
H=$B/root/usr/src/linux-headers-$KVER
# The headers' Makefile includes the common tree by absolute path.
sed -i "s|^include /usr/src/|include $B/root/usr/src/|" "$H/Makefile"
echo "export KTEST_KERNEL=$B/root/boot/vmlinuz-$KVER"
echo "export KTEST_MODROOT=$B/root"
echo "export KTEST_KDIR=$H"
