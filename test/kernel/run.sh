#!/usr/bin/env bash
# npm run test:kernel
#
# Proves native/knetstat.ko in real kernels: for each kernel of the matrix,
# one QEMU (TCG) guest at a time, builds the module against that kernel's
# headers, boots it with this machine's root shared read-only over 9p and
# runs the module's full check set in it (test/kernel/boot.sh, guest.sh,
# guest-checks.mjs), then prints one summary line per kernel.
#
# Env: KTEST_KERNELS  the kernels, in order (default "6.1 6.1-rt 6.1-rt+own
#                     6.12"; see kernels.sh). One name runs one kernel:
#                     KTEST_KERNELS=6.12 npm run test:kernel
#      KTEST_OWN_ITER=1  the module's own hash-table walkers on every kernel.
#      KTEST_KERNEL=/path/vmlinuz KTEST_KDIR=/path/headers [KTEST_MODROOT=/path
#        holding lib/modules/<ver>]: one kernel of your own instead.
#      KTEST_TIMEOUT=seconds per guest (default 900).
#      KNETSTAT_RECORD=1 also copies 6.1's tables to samples/knetstat/ours/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
COMMON=$ROOT/test/.work/kernel
T_START=$(date +%s.%N)
elapsed() { awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'; }
log() { echo "[kernel-test $(elapsed)s] $*"; }
die() {
	echo "[kernel-test] FAIL: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}
# shellcheck source=kernels.sh
source "$ROOT/test/kernel/kernels.sh"

# --- host tools --------------------------------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
for t in cpio gcc make clang bpftool; do command -v $t >/dev/null || need+=($t); done
[ -f /usr/include/bpf/bpf_helpers.h ] || need+=(libbpf-dev)
if ((${#need[@]})); then
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v javac >/dev/null || die "javac not found (a JDK is needed for the sample JVM)"

# --- what every guest shares: stress tool, sample classes, CLI, bpf probe ----
mkdir -p "$COMMON/classes"
gcc -O2 -Wall -Werror -pthread -o "$COMMON/stress" "$ROOT/test/kernel/stress.c"
javac -d "$COMMON/classes" "$ROOT/samples/java/KernelSample.java"
if [ -f "$ROOT/package.json" ] && [ -d "$ROOT/node_modules" ]; then
	# The CLI checks run dist/; a build with type errors still emits.
	(cd "$ROOT" && npx tsc -p tsconfig.json >"$COMMON/tsc.log" 2>&1) || log "tsc reported errors (see $COMMON/tsc.log); using what it emitted"
fi
# CO-RE probe of the bpf source's needs (guest-checks.mjs bpf), built against
# this machine's BTF; without BTF here the guests skip it.
rm -f "$COMMON/iter-probe.bpf.o"
if [ -r /sys/kernel/btf/vmlinux ] && bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$COMMON/vmlinux.h" 2>/dev/null; then
	clang -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -I"$COMMON" \
		-c "$ROOT/test/kernel/iter-probe.bpf.c" -o "$COMMON/iter-probe.bpf.o" || log "bpf probe did not build"
fi

# --- the matrix ----------------------------------------------------------------
if [ -n "${KTEST_KERNEL:-}" ]; then
	KERNELS=custom
else
	KERNELS=${KTEST_KERNELS:-6.1 6.1-rt 6.1-rt+own 6.12}
fi
summary=()
total_pass=0 total_fail=0 total_skip=0
for name in $KERNELS; do
	if [ "$name" = custom ]; then
		VMLINUZ=$KTEST_KERNEL
		KVER=${VMLINUZ##*/vmlinuz-}
		KDIR=${KTEST_KDIR:-/lib/modules/$KVER/build}
		MODDIR=${KTEST_MODROOT:-}/lib/modules/$KVER/kernel
	elif ! ktest_kernel "$name"; then
		summary+=("$(printf '%-12s %-24s %-16s %s' "$name" '-' '-' 'FAILED: kernel not available')")
		total_fail=$((total_fail + 1))
		continue
	fi
	own=${KTEST_OWN_ITER:-}
	[[ $name == *+own ]] && own=1
	dir=$COMMON/${name//+/-}
	status=OK
	KTEST_NAME=$name KTEST_WORK=$dir COMMON=$COMMON VMLINUZ=$VMLINUZ KVER=$KVER KDIR=$KDIR \
		MODDIR=$MODDIR OWN_ITER=$own bash "$ROOT/test/kernel/boot.sh" || status=FAILED
	read -r p f s secs walkers <"$dir/result" || { p=0 f=1 s=0 secs=? walkers=?; }
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + s))
	summary+=("$(printf '%-12s %-24s %-16s %s: %d passed, %d failed, %d skipped, %ss' \
		"$name" "$KVER" "$walkers" "$status" "$p" "$f" "$s" "$secs")")
done

echo
echo "kernel test, $(elapsed)s in all:"
printf '  %-12s %-24s %-16s %s\n' kernel version walkers result
for line in "${summary[@]}"; do echo "  $line"; done
for name in $KERNELS; do
	[[ $name == *+own ]] && continue
	facts=$COMMON/${name//+/-}/bpf-facts
	[ -s "$facts" ] && echo "  bpf on $name: $(tr '\n' ';' <"$facts" | sed 's/;$//; s/;/; /g')"
done
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
((total_fail == 0))
