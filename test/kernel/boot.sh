#!/usr/bin/env bash
# One kernel of the kernel test (run.sh runs the matrix): builds the module
# against KDIR, builds an initramfs with the kernel's virtio/9p modules,
# boots VMLINUZ under QEMU (TCG) with this machine's root shared read-only
# over 9p, chroots into it in the guest and runs test/kernel/guest.sh there.
# Results come back over the serial console as "KTEST ..." lines.
#
# Env (set by run.sh): KTEST_NAME, VMLINUZ, KVER, KDIR, MODDIR, OWN_ITER,
#   KTEST_WORK (this kernel's directory), COMMON (stress, classes, probe),
#   KTEST_TIMEOUT (seconds for the guest, default 900).
# Writes $KTEST_WORK/result: "passed failed skipped seconds walkers".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$KTEST_WORK
T_START=$(date +%s.%N)
elapsed() { awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'; }
log() { echo "[kernel-test $KTEST_NAME $(elapsed)s] $*"; }
result() { echo "$1 $2 $3 $(elapsed) ${walkers:-?}" >"$WORK/result"; }
die() {
	echo "[kernel-test $KTEST_NAME] FAIL: $*" >&2
	result 0 1 0
	exit 1
}

rm -rf "$WORK" && mkdir -p "$WORK/module" "$WORK/recorded"
log "kernel $KVER, headers $KDIR${OWN_ITER:+, own hash-table walkers forced}"

# --- module ----------------------------------------------------------------
cp "$ROOT"/native/{knetstat.c,Kbuild,Makefile} "$WORK/module/"
# Without pahole, skip the BTF of the module (kernels whose headers ship vmlinux want it).
btf=()
command -v pahole >/dev/null || btf=(CONFIG_DEBUG_INFO_BTF_MODULES=)
make -s -C "$WORK/module" KDIR="$KDIR" KNETSTAT_OWN_ITER="$OWN_ITER" "${btf[@]}" >"$WORK/module-build.log" 2>&1 ||
	{ cat "$WORK/module-build.log"; die "module build failed"; }
if grep -Ei 'warning|error' "$WORK/module-build.log"; then die "module build has warnings"; fi
cp "$WORK/module/knetstat.ko" "$WORK/knetstat.ko"
walkers=$( (grep -o 'KNETSTAT_OWN_[A-Z]*_ITER' "$WORK/module/.knetstat.o.cmd" || true) | sort -u | tr '\n' ' ')
echo "$walkers" >"$WORK/walkers"
# The same module counting its walkers' steps, for the walk check.
if [ -n "$walkers" ]; then
	mkdir -p "$WORK/stats"
	cp "$ROOT"/native/{knetstat.c,Kbuild,Makefile} "$WORK/stats/"
	make -s -C "$WORK/stats" KDIR="$KDIR" KNETSTAT_OWN_ITER="$OWN_ITER" KNETSTAT_STATS=1 "${btf[@]}" >"$WORK/stats-build.log" 2>&1 ||
		{ cat "$WORK/stats-build.log"; die "module build (KNETSTAT_STATS) failed"; }
	if grep -Ei 'warning|error' "$WORK/stats-build.log"; then die "module build (KNETSTAT_STATS) has warnings"; fi
fi
walkers=$(echo "$walkers" | sed -e 's/KNETSTAT_OWN_TCP_ITER/own-tcp/' -e 's/KNETSTAT_OWN_UDP_ITER/own-udp/' -e 's/ $//' -e 's/ /,/g')
walkers=${walkers:-kernel}
log "module built (walkers: $walkers)"

# --- initramfs -------------------------------------------------------------
IR=$WORK/initramfs
mkdir -p "$IR"/{bin,proc,sys,dev,host,mods}
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
	chroot /host /usr/bin/env KTEST_WORK=$WORK KTEST_NAME=$KTEST_NAME /bin/bash $ROOT/test/kernel/guest.sh
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

# --- boot ------------------------------------------------------------------
CONSOLE=$WORK/console.log
T_BOOT=$(date +%s.%N)
set +e
timeout "${KTEST_TIMEOUT:-900}" qemu-system-x86_64 \
	-accel tcg -m 2048 -smp 2 -nographic -no-reboot -nic none \
	-kernel "$VMLINUZ" -initrd "$WORK/initramfs.cpio.gz" \
	-append "console=ttyS0 loglevel=3 panic=-1 quiet" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	</dev/null 2>&1 | stdbuf -oL tr -d '\r' | tee "$CONSOLE" |
	grep --line-buffered -E '^KTEST (PASS|FAIL|SKIP|TIME|INFO|DONE|BPF-FACT)|Kernel panic|BUG:|Oops|WARNING:|INFO: task|rcu: INFO|stall'
QEMU_RC=${PIPESTATUS[0]}
set -e
T_QEMU=$(awk -v a="$T_BOOT" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')

# --- recorded tables -------------------------------------------------------
awk -v dir="$WORK/recorded" '
	/^KTEST-FILE-BEGIN / { name = $2; out = dir "/" name; printf "" > out; next }
	/^KTEST-FILE-END / { close(out); name = ""; next }
	name != "" { print >> out }
' "$CONSOLE"
if [ "${KNETSTAT_RECORD:-0}" = 1 ] && [ "$KTEST_NAME" = 6.1 ] && [ -s "$WORK/recorded/tcpstat" ]; then
	S=$ROOT/samples/knetstat
	mkdir -p "$S/ours" "$S/upstream/recorded"
	cp "$WORK"/recorded/* "$S/ours/"
	# The same tables in upstream knetstat's format (see samples/knetstat/README.md).
	for f in tcpstat tcp6stat udpstat udp6stat; do
		sed -e '1s/ Inode$//' -e '2,$s/ [0-9]\+$//' -e 's/,TCP_USER_TIMEOUT=[0-9]*//' \
			-e 's/TCP_DEFER_ACCEPT=63$/TCP_DEFER_ACCEPT=6/' "$S/ours/$f" >"$S/upstream/recorded/$f"
	done
	cp "$S"/ours/{tcp,tcp6,udp,udp6,fds,ready} "$S/upstream/recorded/"
	log "recorded tables copied to samples/knetstat/ours/ and upstream/recorded/"
fi
grep '^KTEST BPF-FACT ' "$CONSOLE" | sed 's/^KTEST BPF-FACT //' >"$WORK/bpf-facts" || true

# --- verdict ---------------------------------------------------------------
pass=$(grep -c '^KTEST PASS' "$CONSOLE" || true)
fail=$(grep -c '^KTEST FAIL' "$CONSOLE" || true)
skip=$(grep -c '^KTEST SKIP' "$CONSOLE" || true)
problems=()
[ "$QEMU_RC" -eq 0 ] || problems+=("qemu exit $QEMU_RC (124 = timeout)")
grep -q '^KTEST DONE' "$CONSOLE" || problems+=("guest did not finish")
grep -q '^KTEST POWEROFF' "$CONSOLE" || problems+=("guest did not power off cleanly")
grep -qE 'Kernel panic|BUG:|Oops' "$CONSOLE" && problems+=("kernel trouble on the console")
((fail == 0)) || problems+=("$fail checks failed")
log "qemu ${T_QEMU}s; guest uptime at: $(grep '^KTEST TIME' "$CONSOLE" | awk '{ printf "%s=%ss ", $3, $4 }')"
if ((${#problems[@]})); then
	grep '^KTEST FAIL' "$CONSOLE" || true
	log "FAILED: ${problems[*]} (console: $CONSOLE)"
	result "$pass" $((fail > 0 ? fail : 1)) "$skip"
	exit 1
fi
log "OK: $pass passed, $fail failed, $skip skipped (console: $CONSOLE)"
result "$pass" "$fail" "$skip"
