#!/usr/bin/env bash
# npm run test:kernel
#
# Proves native/knetstat.ko in a real kernel: builds it against Debian's 6.1
# headers, boots Debian's 6.1 kernel under QEMU (TCG), shares this machine's
# root read-only over 9p, chroots into it in the guest and runs
# test/kernel/guest.sh there (sample JVM, diag, CLI, stress + reloads).
# Results come back over the serial console as "KTEST ..." lines.
#
# Env: KNETSTAT_RECORD=1 also copies the recorded tables to samples/knetstat/ours/.
#      KTEST_TIMEOUT=seconds for the whole guest run (default 420).
#      KTEST_OWN_ITER=1 builds the module's own hash-table walkers (used where
#        the kernel does not export tcp_seq_*/udp_seq_*) to test them on 6.1.
#      KTEST_KERNEL=/path/vmlinuz KTEST_MODROOT=/path (holding lib/modules/<ver>)
#        KTEST_KDIR=/path/headers: boot another kernel than Debian's 6.1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$ROOT/test/.work/kernel
T_START=$(date +%s.%N)
elapsed() { awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "[kernel-test $(elapsed)s] $*"; }
die() { echo "[kernel-test] FAIL: $*" >&2; exit 1; }

# --- packages ------------------------------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
compgen -G '/boot/vmlinuz-6.1*' >/dev/null || need+=(linux-image-amd64)
compgen -G '/usr/src/linux-headers-6.1*-amd64' >/dev/null || need+=(linux-headers-amd64)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
if ((${#need[@]})); then
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v javac >/dev/null || die "javac not found (a JDK is needed for the sample JVM)"

VMLINUZ=${KTEST_KERNEL:-$(ls -1 /boot/vmlinuz-6.1* | sort -V | tail -1)}
KVER=${VMLINUZ##*/vmlinuz-}
KDIR=${KTEST_KDIR:-/usr/src/linux-headers-$KVER}
[ -d "$KDIR" ] || KDIR=/lib/modules/$KVER/build
[ -d "$KDIR" ] || die "no headers for $KVER"
MODDIR=${KTEST_MODROOT:-}/lib/modules/$KVER/kernel
OWN_ITER=${KTEST_OWN_ITER:-}
log "kernel $KVER, headers $KDIR${OWN_ITER:+, own hash-table walkers forced}"

# --- build: module, stress tool, sample classes, initramfs ---------------
mkdir -p "$WORK/module" "$WORK/classes" "$WORK/initramfs" "$WORK/recorded"
cp "$ROOT"/native/{knetstat.c,Kbuild,Makefile} "$WORK/module/"
# Without pahole, skip the BTF of the module (kernels whose headers ship vmlinux want it).
btf=()
command -v pahole >/dev/null || btf=(CONFIG_DEBUG_INFO_BTF_MODULES=)
make -s -C "$WORK/module" KDIR="$KDIR" KNETSTAT_OWN_ITER="$OWN_ITER" "${btf[@]}" >"$WORK/module-build.log" 2>&1 ||
	{ cat "$WORK/module-build.log"; die "module build failed"; }
if grep -Ei 'warning|error' "$WORK/module-build.log"; then die "module build has warnings"; fi
cp "$WORK/module/knetstat.ko" "$WORK/knetstat.ko"
walkers=$( (grep -o 'KNETSTAT_OWN_[A-Z]*_ITER' "$WORK/module/.knetstat.o.cmd" || true) | sort -u | tr '\n' ' ')
log "module built (${walkers:-kernel tcp_seq_*/udp_seq_* iterators})"
gcc -O2 -Wall -Werror -pthread -o "$WORK/stress" "$ROOT/test/kernel/stress.c"
javac -d "$WORK/classes" "$ROOT/samples/java/KernelSample.java"
if [ -f "$ROOT/package.json" ] && [ -d "$ROOT/node_modules" ]; then
	# The CLI check (2) runs dist/; a build with type errors still emits.
	(cd "$ROOT" && npx tsc -p tsconfig.json >"$WORK/tsc.log" 2>&1) || log "tsc reported errors (see $WORK/tsc.log); using what it emitted"
fi

IR=$WORK/initramfs
rm -rf "$IR" && mkdir -p "$IR"/{bin,proc,sys,dev,host,mods}
cp "$(command -v busybox)" "$IR/bin/busybox"
MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p"
GUEST_MODS=
for m in $MODS; do
	f=$(find "$MODDIR" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
	[ -n "$f" ] || { log "$m: not a module in $MODDIR (built in?)"; continue; }
	GUEST_MODS="$GUEST_MODS $m"
	case $f in
	*.xz) xz -dc "$f" >"$IR/mods/$m.ko" ;;
	*) cp "$f" "$IR/mods/$m.ko" ;;
	esac
done
cat >"$IR/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "KTEST TIME init \$(cut -d' ' -f1 /proc/uptime)"
for m in $GUEST_MODS; do insmod /mods/\$m.ko || echo "KTEST FAIL insmod-\$m"; done
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /host; then
	# The checkout may live under /tmp or /run, which get a fresh tmpfs below: keep it reachable.
	mkdir -p /src && mount -o bind /host$ROOT /src
	mount -t proc proc /host/proc
	mount -t sysfs sys /host/sys
	mount -t devtmpfs dev /host/dev
	mkdir -p /host/dev/shm /host/dev/pts
	mount -t tmpfs shm /host/dev/shm
	mount -t tmpfs tmp /host/tmp
	mount -t tmpfs run /host/run
	[ -d /host$ROOT ] || { mkdir -p /host$ROOT && mount -o bind /src /host$ROOT; }
	chroot /host /bin/bash $ROOT/test/kernel/guest.sh
	echo "KTEST GUEST-EXIT \$?"
	umount /host/tmp /host/run /host/dev/shm 2>/dev/null
else
	echo "KTEST FAIL mount-9p"
fi
sync
echo "KTEST POWEROFF"
poweroff -f
EOF
chmod +x "$IR/init"
(cd "$IR" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initramfs.cpio.gz"
log "initramfs built"

# --- boot ----------------------------------------------------------------
CONSOLE=$WORK/console.log
T_BOOT=$(date +%s.%N)
set +e
timeout "${KTEST_TIMEOUT:-420}" qemu-system-x86_64 \
	-accel tcg -m 2048 -smp 2 -nographic -no-reboot -nic none \
	-kernel "$VMLINUZ" -initrd "$WORK/initramfs.cpio.gz" \
	-append "console=ttyS0 loglevel=3 panic=-1 quiet" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	</dev/null 2>&1 | tr -d '\r' | tee "$CONSOLE" | grep --line-buffered -E '^KTEST (PASS|FAIL|SKIP|TIME|INFO|DONE)|Kernel panic|BUG:|Oops'
QEMU_RC=${PIPESTATUS[0]}
set -e
T_QEMU=$(awk -v a="$T_BOOT" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

# --- recorded tables -----------------------------------------------------
awk -v dir="$WORK/recorded" '
	/^KTEST-FILE-BEGIN / { name = $2; out = dir "/" name; printf "" > out; next }
	/^KTEST-FILE-END / { close(out); name = ""; next }
	name != "" { print >> out }
' "$CONSOLE"
if [ "${KNETSTAT_RECORD:-0}" = 1 ] && [ -s "$WORK/recorded/tcpstat" ]; then
	S=$ROOT/samples/knetstat
	mkdir -p "$S/ours" "$S/upstream/recorded"
	cp "$WORK"/recorded/* "$S/ours/"
	# The same tables in upstream knetstat's format (see samples/knetstat/README.md).
	for f in tcpstat tcp6stat udpstat udp6stat; do
		sed -e '1s/ Inode$//' -e '2,$s/ [0-9]\+$//' -e 's/,TCP_USER_TIMEOUT=[0-9]*//' \
			-e 's/TCP_DEFER_ACCEPT=7$/TCP_DEFER_ACCEPT=3/' "$S/ours/$f" >"$S/upstream/recorded/$f"
	done
	cp "$S"/ours/{tcp,tcp6,udp,udp6,fds,ready} "$S/upstream/recorded/"
	log "recorded tables copied to samples/knetstat/ours/ and upstream/recorded/"
fi

# --- verdict -------------------------------------------------------------
pass=$(grep -c '^KTEST PASS' "$CONSOLE" || true)
fail=$(grep -c '^KTEST FAIL' "$CONSOLE" || true)
skip=$(grep -c '^KTEST SKIP' "$CONSOLE" || true)
problems=()
[ "$QEMU_RC" -eq 0 ] || problems+=("qemu exit $QEMU_RC (124 = timeout)")
grep -q '^KTEST DONE' "$CONSOLE" || problems+=("guest did not finish")
grep -q '^KTEST POWEROFF' "$CONSOLE" || problems+=("guest did not power off cleanly")
grep -qE 'Kernel panic|BUG:|Oops' "$CONSOLE" && problems+=("kernel trouble on the console")
((fail == 0)) || problems+=("$fail checks failed")
echo
echo "timings: total $(elapsed)s, qemu $T_QEMU s;" \
	"guest uptime at: $(grep '^KTEST TIME' "$CONSOLE" | awk '{ printf "%s=%ss ", $3, $4 }')"
if ((${#problems[@]})); then
	grep '^KTEST FAIL' "$CONSOLE" || true
	echo "kernel test: FAILED: ${problems[*]} (console: $CONSOLE)"
	echo "$pass passed, $((fail > 0 ? fail : 1)) failed"
	exit 1
fi
echo "kernel test: OK (console: $CONSOLE)"
echo "$pass passed, $fail failed, $skip skipped"
