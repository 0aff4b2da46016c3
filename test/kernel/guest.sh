#!/bin/bash
# Runs inside the QEMU guest, chrooted into the host's root (9p, read-only),
# started by the initramfs /init that run.sh builds. Everything it finds was
# built on the host by run.sh under test/.work/kernel/ (shared by all
# kernels) and boot.sh under $KTEST_WORK (this kernel's module). Results go
# to the serial console as "KTEST PASS|FAIL|SKIP|TIME ..." lines.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C.UTF-8
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$ROOT/test/.work/kernel
export KTEST_WORK=${KTEST_WORK:-$W}
KO=$KTEST_WORK/knetstat.ko
FILES="tcpstat tcp6stat udpstat udp6stat"

say() { echo "KTEST $*"; }
up() { cut -d' ' -f1 /proc/uptime; }
check() { # name command...
	local name=$1
	shift
	if "$@"; then say PASS "$name"; else say FAIL "$name"; fi
}
files_present() {
	local f
	for f in $FILES; do [ -r /proc/net/$f ] || return 1; done
}
files_absent() {
	local f
	for f in $FILES; do [ -e /proc/net/$f ] && return 1; done
	return 0
}

say TIME chroot "$(up)"
ip link set lo up
# What BPF programs and tools expect besides /sys: bpffs, debugfs, tracefs.
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
# A variant (e.g. 6.1-rt+own: the same kernel, the module's own walkers)
# skips what does not depend on the module: the bpf probe and self-check,
# auto as root, strace of the CLI.
VARIANT=
[[ ${KTEST_NAME:-} == *+* ]] && VARIANT=1
export KTEST_VARIANT=$VARIANT
# The kernel's own module autoload runs /sbin/modprobe from the initramfs root,
# which has none: load the sock_diag handlers a normal host would autoload.
modprobe -a inet_diag tcp_diag udp_diag 2>/tmp/modprobe.err || say INFO "modprobe sock_diag handlers: $(head -c 200 /tmp/modprobe.err)"
check insmod insmod "$KO"
check files-present files_present
say INFO "$(uname -r) $(grep -c . /proc/net/tcpstat) tcpstat lines"

# --- 1. sample JVM: options, inodes -------------------------------------
# Started together with check 2b's JVM of an ordinary user: booting a JVM
# is most of a TCG guest's first minute. The bpf checks run meanwhile.
mkfifo /tmp/jvm.in
java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Xmx64m \
	-cp "$W/classes" KernelSample </tmp/jvm.in >/tmp/jvm.out 2>/tmp/jvm.err &
JVM=$!
exec 3>/tmp/jvm.in
UJVM_UID=4242
mkfifo /tmp/ujvm.in
setpriv --reuid=$UJVM_UID --regid=$UJVM_UID --clear-groups \
	java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Xmx64m -Djava.io.tmpdir=/tmp \
	-cp "$W/classes" KernelSample </tmp/ujvm.in >/tmp/ujvm.out 2>/tmp/ujvm.err &
UJVM=$!
exec 4>/tmp/ujvm.in
if [ -z "$VARIANT" ]; then
	node $ROOT/test/kernel/guest-checks.mjs bpf
	node $ROOT/test/kernel/guest-checks.mjs selfcheck
	say TIME bpf-selfcheck "$(up)"
fi
READY=
for _ in $(seq 1200); do
	READY=$(sed -n 's/^READY //p' /tmp/jvm.out)
	[ -n "$READY" ] && break
	kill -0 $JVM 2>/dev/null || break
	sleep 0.1
done
if [ -z "$READY" ]; then
	say FAIL jvm-ready "$(head -c 300 /tmp/jvm.err | tr '\n' ' ')"
else
	say TIME jvm-ready "$(up)"
	say PASS jvm-ready "$READY"
	node $ROOT/test/kernel/guest-checks.mjs sample "$READY"
	# --- 3. diag indicators ------------------------------------------
	node $ROOT/test/kernel/guest-checks.mjs diag "$READY"
	# Options Java cannot set, request sockets (SYN_RECV) and TIME_WAIT rows.
	"$W/stress" hold 300 >/tmp/hold.out 2>&1 &
	HOLDER=$!
	HOLD=
	for _ in $(seq 100); do
		HOLD=$(sed -n 's/^HOLD //p' /tmp/hold.out)
		[ -n "$HOLD" ] && break
		sleep 0.1
	done
	if [ -n "$HOLD" ]; then
		node $ROOT/test/kernel/guest-checks.mjs hold "$HOLD"
	else
		say FAIL hold "$(head -c 200 /tmp/hold.out)"
	fi
	"$W/stress" 2 0 >/dev/null
	node $ROOT/test/kernel/guest-checks.mjs timewait
	# --all --source bpf against the module's tables: both JVMs, the holder's
	# options and (while TCP_DEFER_ACCEPT keeps them) request sockets, TIME_WAIT rows.
	node $ROOT/test/kernel/guest-checks.mjs allbpf
	say TIME all-bpf "$(up)"
	# Long tables: 300 idle sockets more, then row order against /proc/net/*.
	"$W/stress" idle 300 >/tmp/idle.out 2>&1 &
	IDLER=$!
	for _ in $(seq 100); do grep -q IDLE /tmp/idle.out && break; sleep 0.1; done
	node $ROOT/test/kernel/guest-checks.mjs order
	kill $IDLER 2>/dev/null
	wait $IDLER 2>/dev/null
	node $ROOT/test/kernel/guest-checks.mjs dump "$READY"
	kill $HOLDER 2>/dev/null
	wait $HOLDER 2>/dev/null
	say TIME checks-1-3 "$(up)"
	# --- 2. the CLI's two sources agree -----------------------------
	node $ROOT/test/kernel/guest-checks.mjs cli "$READY"
	say TIME check-2 "$(up)"
fi
exec 3>&-
kill $JVM 2>/dev/null
wait $JVM 2>/dev/null

# --- 2b. automatic choice without ptrace rights: the JVM of an ordinary user ---
UREADY=
for _ in $(seq 1200); do
	UREADY=$(sed -n 's/^READY //p' /tmp/ujvm.out)
	[ -n "$UREADY" ] && break
	kill -0 $UJVM 2>/dev/null || break
	sleep 0.1
done
if [ -n "$UREADY" ]; then
	node $ROOT/test/kernel/guest-checks.mjs auto "${UREADY%\}},\"uid\":$UJVM_UID}"
	say TIME check-2b "$(up)"
else
	say FAIL cli-auto-jvm-ready "$(head -c 300 /tmp/ujvm.err | tr '\n' ' ')"
fi
exec 4>&-
kill $UJVM 2>/dev/null
wait $UJVM 2>/dev/null

# --- 2c. the walkers: tiny reads, linear, and whole under churn ---------
# The walk is counted by the test build of the module (KNETSTAT_STATS), where
# boot.sh made one (own walkers); everything else runs the module as shipped.
if [ -f "$KTEST_WORK/stats/knetstat.ko" ]; then
	check insmod-stats-build sh -c "rmmod knetstat && insmod $KTEST_WORK/stats/knetstat.ko"
fi
node $ROOT/test/kernel/guest-checks.mjs walk
if [ -f "$KTEST_WORK/stats/knetstat.ko" ]; then
	check insmod-shipped-build sh -c "rmmod knetstat && insmod $KO"
fi
say TIME walk "$(up)"
node $ROOT/test/kernel/guest-checks.mjs resume
say TIME resume "$(up)"

# --- 4. stress: churn + readers + rmmod/insmod ---------------------------
: >/tmp/reload.log
rm -f /tmp/stop
reader() { # whole-file reads in a loop; counts the complete ones
	local n=0
	while [ ! -e /tmp/stop ]; do
		cat /proc/net/tcpstat /proc/net/tcp6stat /proc/net/udpstat /proc/net/udp6stat >/dev/null 2>&1 && n=$((n + 1))
	done
	echo "$n" >"/tmp/reads.$1"
}
slow_reader() { # keeps the file open across module reloads
	local n=0
	while [ ! -e /tmp/stop ]; do
		if { read -r _; sleep 0.05; cat >/dev/null; } 2>/dev/null </proc/net/tcpstat; then n=$((n + 1)); else sleep 0.01; fi
	done
	echo "$n" >"/tmp/reads.$1"
}
T0=$(up)
"$W/stress" 4 120 /tmp/stop >/tmp/stress.out 2>&1 &
STRESS=$!
reader 1 & R1=$!
reader 2 & R2=$!
slow_reader 3 & R3=$!
reloads=0
for i in $(seq 10); do
	sleep 0.2
	rmmod knetstat >>/tmp/reload.log 2>&1 || { echo "rmmod $i failed" >>/tmp/reload.log; continue; }
	files_absent || echo "files still present after rmmod $i" >>/tmp/reload.log
	sleep 0.1
	insmod "$KO" >>/tmp/reload.log 2>&1 || { echo "insmod $i failed" >>/tmp/reload.log; continue; }
	files_present || echo "files missing after insmod $i" >>/tmp/reload.log
	reloads=$((reloads + 1))
done
touch /tmp/stop
wait $STRESS
STRESS_RC=$?
wait $R1 $R2 $R3
say TIME stress "$(awk -v a="$T0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')"
check stress-churn [ $STRESS_RC -eq 0 ]
say INFO "$(cat /tmp/stress.out), complete reads by the 3 readers: $(cat /tmp/reads.1 /tmp/reads.2 /tmp/reads.3 | tr '\n' ' ')"
check stress-reloads-10 [ $reloads -eq 10 -a ! -s /tmp/reload.log ]
[ -s /tmp/reload.log ] && say INFO "reload: $(head -c 400 /tmp/reload.log | tr '\n' ' ')"
# The tables are still whole after all that.
tables_sane() {
	local f
	for f in $FILES; do
		head -1 /proc/net/$f | grep -q '^Recv-Q Send-Q Local Address' || return 1
	done
	[ "$(grep -c . /proc/net/tcpstat)" -eq "$(grep -c . /proc/net/tcp)" ] ||
		[ "$(grep -c . /proc/net/tcpstat)" -gt 1 ]
}
check stress-tables-sane tables_sane
check rmmod-final rmmod knetstat
check files-removed files_absent
# Anything the kernel complained about: oopses, warnings, sleeping in atomic
# context (PREEMPT_RT turns spinlocks into sleeping locks), RCU stalls and
# splats, lockdep reports, lockups, hung tasks, memory errors.
bad='\bOops\b|\bBUG\b|\bWARNING\b|Call Trace|general protection|refcount_t|use-after-free|KASAN|corruption|[Ll]eak|unreferenced object'
bad="$bad|scheduling while atomic|sleeping function called|invalid context|rcu.*(stall|detected)|suspicious RCU|RCU used illegally"
bad="$bad|lockdep|circular locking|inconsistent lock state|possible recursive locking|lock held when returning|bad unlock balance|soft lockup|hard LOCKUP|blocked for more than"
# The bpf programs were loaded and run by then (self-check, the CLI's walks):
# the kernel's BPF and BTF complaints (a module BTF it refuses, a verifier or
# JIT bug report) count too.
bad="$bad|\bBPF:|BTF: |bpf.*(error|fail|invalid)|verifier|bpf_prog_[0-9a-f]+_"
dmesg | grep -iE 'bpf|btf' | head -5 | while read -r l; do say INFO "dmesg bpf: $l"; done
if dmesg | grep -E "$bad" >/tmp/dmesg.bad; then
	say FAIL dmesg-clean "$(head -c 600 /tmp/dmesg.bad | tr '\n' '|')"
else
	say PASS dmesg-clean "$(dmesg | grep -c .) lines, none bad"
fi
# The taint flags the kernel sets on such events (W warning, D oops, L soft
# lockup, B bad page, ...); ours sets only O (out of tree) and E (unsigned).
taint=$(cat /proc/sys/kernel/tainted)
check taint-only-module [ $((taint & ~(4096 | 8192))) -eq 0 ]
say INFO "tainted=$taint"
say TIME guest-end "$(up)"
say DONE
