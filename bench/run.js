// npm run bench: knetstat-java against `ss -tanuipeim` on JVMs holding 1,000,
// 10,000 and 50,000 sockets (samples/java/ManySockets.java), pair by pair in
// the same run, through auto (the bpf source where it can run) and pidfd; the
// bpf source's own phases (bench/bpfphases.js); then the same 100-socket JVM
// on an idle host and beside other processes holding 100,000 sockets. Prints a
// table and writes bench/results.md.
//
//   node bench/run.js [--sizes 1000,10000,50000] [--reps 3] [--noise 100000] [--no-strace] [--no-profile]
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { cpus, totalmem, release, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const WORK = join(tmpdir(), `knetstat-bench-${process.pid}`);
const CLASSES = join(WORK, 'classes');

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const SIZES = opt('sizes', '1000,10000,50000').split(',').map(Number);
const REPS = Number(opt('reps', '3'));
const NOISE = Number(opt('noise', '100000'));
const STRACE = !args.includes('--no-strace');
const PROFILE = !args.includes('--no-profile');
const log = (s) => process.stderr.write(`bench: ${s}\n`);

// ---- the fd limit: ManySockets needs N fds; prlimit raises it only with CAP_SYS_RESOURCE.
function hardNofile() {
  const m = /Max open files\s+\d+\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m?.[1] === 'unlimited' ? Infinity : Number(m?.[1]);
}
function canRaise(n) {
  return spawnSync('prlimit', [`--nofile=${n}:${n}`, 'true']).status === 0;
}
const WANT_NOFILE = 200_000;
const RAISE = canRaise(WANT_NOFILE);
const FD_CAP = RAISE ? WANT_NOFILE - 1000 : hardNofile() - 500;

// ---- JVMs
function compile() {
  mkdirSync(CLASSES, { recursive: true });
  execFileSync('javac', ['-d', CLASSES, join(ROOT, 'samples', 'java', 'ManySockets.java')], { stdio: 'inherit' });
}

async function startMany(n, spread) {
  const java = ['java', '-Xshare:auto', '-XX:+UseSerialGC', '-Xmx768m', '-cp', CLASSES, 'ManySockets', String(n), String(spread)];
  const cmd = RAISE ? ['prlimit', `--nofile=${WANT_NOFILE}:${WANT_NOFILE}`, ...java] : ['bash', '-c', 'ulimit -n "$(ulimit -Hn)"; exec "$@"', 'bash', ...java];
  const proc = spawn(cmd[0], cmd.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = createInterface({ input: proc.stdout });
  const ready = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`ManySockets ${n} not READY in 300 s`)), 300_000);
    rl.on('line', (l) => { if (l.startsWith('READY')) { clearTimeout(timer); res(JSON.parse(l.slice(5))); } });
    proc.on('exit', (code) => { clearTimeout(timer); rej(new Error(`ManySockets ${n} exited ${code} before READY`)); });
  });
  return {
    pid: ready.pid, ready,
    stop: () => new Promise((res) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return res();
      proc.once('exit', res);
      proc.stdin.end();
      setTimeout(() => proc.kill('SIGKILL'), 10_000).unref();
    }),
  };
}

function socketCount(pid) {
  let n = 0;
  for (const f of readdirSync(`/proc/${pid}/fd`)) if (readlinkSafe(`/proc/${pid}/fd/${f}`).startsWith('socket:')) n++;
  return n;
}
function readlinkSafe(p) { try { return readlinkSync(p); } catch { return ''; } }

// ---- one timed run under /usr/bin/time: wall s, user s, sys s, max RSS KiB
function timed(cmd, outFile = '/dev/null') {
  const r = spawnSync('bash', ['-c', `/usr/bin/time -f '@@TIME %e %U %S %M' "$@" > ${outFile}`, 'bash', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const m = /@@TIME (\S+) (\S+) (\S+) (\S+)/.exec(r.stderr);
  if (!m) throw new Error(`no timing from ${cmd.join(' ')}: ${r.stderr.slice(-500)}`);
  const code = /Command exited with non-zero status (\d+)/.exec(r.stderr)?.[1];
  return { wall: Number(m[1]), user: Number(m[2]), sys: Number(m[3]), rssKb: Number(m[4]), code: code ? Number(code) : 0 };
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
function medianRun(runs) {
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.user + r.sys)), user: median(runs.map((r) => r.user)), sys: median(runs.map((r) => r.sys)), rssMb: median(runs.map((r) => r.rssKb)) / 1024, codes: [...new Set(runs.map((r) => r.code))] };
}
const tool = (pid) => [process.execPath, CLI, String(pid), '--format', 'json', '-q'];
/** The pidfd source alone, without sock_diag's enrichment (timers, shutdown state): what each part costs. */
const toolPidfd = (pid) => [...tool(pid), '--source', 'pidfd'];
const SS = ['ss', '-tanuipeim'];

/** strace -c -f: total syscalls and the biggest few. */
function straceCount(cmd) {
  const f = join(WORK, `strace-${Date.now()}.txt`);
  spawnSync('strace', ['-c', '-f', '-o', f, ...cmd], { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 << 26 });
  const text = readFileSync(f, 'utf8');
  const calls = {};
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m && m[2] !== 'total') calls[m[2]] = Number(m[1]);
    const t = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?total\s*$/.exec(line);
    if (t) total = Number(t[1]);
  }
  return { total, calls };
}

/** Which files and sockets the tool opens: anything host-wide (/proc/net, sock_diag netlink)? */
function hostWideAccess(pid) {
  const f = join(WORK, 'trace-open.txt');
  spawnSync('strace', ['-f', '-e', 'trace=openat,open,socket', '-o', f, ...tool(pid)], { stdio: ['ignore', 'ignore', 'ignore'] });
  const lines = readFileSync(f, 'utf8').split('\n');
  return {
    procNet: lines.filter((l) => /\/proc\/(self\/|\d+\/)?net\//.test(l)),
    netlink: lines.filter((l) => /socket\(AF_NETLINK/.test(l)),
    procPidOther: [...new Set(lines.map((l) => /"\/proc\/(\d+)\//.exec(l)?.[1]).filter((p) => p && Number(p) !== pid))],
  };
}

function machine() {
  const model = cpus()[0]?.model ?? 'unknown';
  return {
    nproc: execFileSync('nproc', { encoding: 'utf8' }).trim(), model, memGiB: (totalmem() / 2 ** 30).toFixed(1),
    kernel: release(), node: process.version, java: spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0],
    ss: spawnSync('ss', ['-V'], { encoding: 'utf8' }).stdout.trim(),
  };
}

function cpuProfile(pid) {
  const dir = join(WORK, 'prof');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, CLI, String(pid), '--format', 'json', '-q'], { stdio: ['ignore', 'ignore', 'ignore'] });
  const file = readdirSync(dir).find((x) => x.endsWith('.cpuprofile'));
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const cf = byId.get(p.samples[i]).callFrame;
    const where = cf.url ? `${cf.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^node:/, '')}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
    const dt = p.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  return { totalMs: total / 1000, top: [...self].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, t]) => ({ fn: k, ms: t / 1000, pct: (100 * t) / total })) };
}

const f1 = (x) => x.toFixed(1), f2 = (x) => x.toFixed(2), f0 = (x) => Math.round(x).toLocaleString('en-US');

// ---- main
mkdirSync(WORK, { recursive: true });
if (!existsSync(CLI)) throw new Error('dist/ missing: npm run bench builds it');
compile();
const m = machine();
const load0 = loadavg();
log(`fd limit for the JVM: ${RAISE ? `raised to ${WANT_NOFILE} (prlimit)` : `hard limit ${hardNofile()} (prlimit refused: no CAP_SYS_RESOURCE): sizes capped at ${FD_CAP}`}`);

const rows = [];
let profile, phases, access, ssBytesPerSocket = 0;
for (const want of SIZES) {
  const n = Math.min(want, FD_CAP);
  log(`N=${want}${n !== want ? ` (capped to ${n})` : ''}: starting ManySockets`);
  const jvm = await startMany(n, 16);
  try {
    const held = socketCount(jvm.pid);
    // Correctness of the measured run: the report lists every TCP/UDP socket.
    const out = join(WORK, 'report.json');
    const first = timed(tool(jvm.pid), out);
    const text = readFileSync(out, 'utf8');
    const reported = (text.match(/\n {4}\{\n {6}"protocol": /g) ?? []).length;
    rmSync(out);
    if (n === Math.min(SIZES.at(-1), FD_CAP)) {
      const ssOut = join(WORK, 'ss.txt');
      timed(SS, ssOut);
      ssBytesPerSocket = readFileSync(ssOut).length / held;
    }
    const reps = n >= 20_000 ? Math.max(2, REPS - 1) : REPS;
    const t = [first], s = [], p = [];
    s.push(timed(SS));
    p.push(timed(toolPidfd(jvm.pid)));
    for (let i = 1; i < reps; i++) { t.push(timed(tool(jvm.pid))); s.push(timed(SS)); p.push(timed(toolPidfd(jvm.pid))); }
    const tr = medianRun(t), sr = medianRun(s), pr = medianRun(p);
    let st, ss;
    if (STRACE) { log(`N=${n}: strace -c`); st = straceCount(tool(jvm.pid)); ss = straceCount(SS); }
    const ph = JSON.parse(spawnSync(process.execPath, ['--expose-gc', join(ROOT, 'bench', 'phases.js'), String(jvm.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').at(-1));
    const bpfOut = spawnSync(process.execPath, [join(ROOT, 'bench', 'bpfphases.js'), String(jvm.pid)], { encoding: 'utf8' });
    const bp = bpfOut.status === 0 ? JSON.parse(bpfOut.stdout.trim().split('\n').at(-1)) : undefined;
    if (!bp) log(`N=${n}: bpf phases unavailable: ${bpfOut.stderr.trim().split('\n').at(-1)}`);
    if (n === Math.min(SIZES.at(-1), FD_CAP)) {
      phases = ph;
      if (PROFILE) { log(`N=${n}: cpu profile`); profile = cpuProfile(jvm.pid); }
      if (STRACE) access = hostWideAccess(jvm.pid);
    }
    rows.push({ want, n, held, reported, tool: tr, ss: sr, pidfd: pr, st, sst: ss, ph, bp, bytes: text.length });
    log(`N=${n}: tool ${f2(tr.wall)} s wall, ${f2(tr.cpu)} s cpu, ${f0(tr.rssMb)} MB; ss ${f2(sr.wall)} s; reported ${reported}/${held}`);
  } finally {
    await jvm.stop();
  }
}

// ---- host-wide independence: a 100-socket JVM, idle host vs NOISE sockets held by other processes
log(`host-wide: 100-socket target, idle then beside ${NOISE} sockets in other processes`);
const small = await startMany(100, 4);
const hostRows = [];
const noise = [];
try {
  const measure = (label) => {
    const t = [], s = [];
    for (let i = 0; i < 5; i++) { t.push(timed(tool(small.pid))); s.push(timed(SS)); }
    const st = STRACE ? straceCount(tool(small.pid)) : undefined;
    const hostSockets = Number(execFileSync('bash', ['-c', 'ss -tanu | wc -l'], { encoding: 'utf8' }).trim()) - 1;
    hostRows.push({ label, hostSockets, tool: medianRun(t), ss: medianRun(s), st });
  };
  measure('baseline (this host as it is)');
  const per = Math.min(FD_CAP, 20_000);
  let left = NOISE;
  for (let i = 0; left > 0; i++) {
    const k = Math.min(per, left);
    noise.push(await startMany(k, 16));
    left -= k;
  }
  measure(`${f0(NOISE)} sockets in ${noise.length} other processes`);
} finally {
  for (const j of noise) await j.stop();
  await small.stop();
}
const load1 = loadavg();

// ---- report
const L = [];
L.push('# knetstat-java scale benchmark', '');
L.push(`Generated by \`npm run bench\` (bench/run.js) on ${new Date().toISOString()}.`, '');
L.push('## Machine', '');
L.push(`- nproc: ${m.nproc}; CPU: ${m.model}; memory: ${m.memGiB} GiB; kernel ${m.kernel}; node ${m.node}; ${m.java}; ${m.ss}`);
L.push(`- load average (1/5/15 min) at start: ${load0.map(f2).join(' / ')}; at end: ${load1.map(f2).join(' / ')}${load0[0] > 0.3 || load1[0] > 1.5 ? ' — **other load was present on the 2 cores during the run: figures are noisy**' : ''}`);
L.push(`- fd limit for the target JVM: ${RAISE ? `raised to ${WANT_NOFILE} with prlimit` : `prlimit refused (no CAP_SYS_RESOURCE here): hard limit ${hardNofile()}, so sizes above ${FD_CAP} were capped to ${FD_CAP}`}`);
L.push('- each figure: median of several runs, alternating tool and ss; output to /dev/null; `/usr/bin/time -f "%e %U %S %M"`; syscalls from a separate `strace -c -f` run', '');
L.push('## knetstat-java <pid> --format json vs ss -tanuipeim', '');
L.push('| sockets (asked → held) | reported | tool wall s | tool CPU s (user+sys) | tool peak RSS MB | ss wall s | ss CPU s | ss peak RSS MB | wall ratio tool/ss | tool syscalls/socket | ss syscalls/socket | JSON MB |');
L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  L.push(`| ${f0(r.want)} → ${f0(r.held)} | ${f0(r.reported)} | ${f2(r.tool.wall)} | ${f2(r.tool.cpu)} (${f2(r.tool.user)}+${f2(r.tool.sys)}) | ${f0(r.tool.rssMb)} | ${f2(r.ss.wall)} | ${f2(r.ss.cpu)} | ${f0(r.ss.rssMb)} | ${f1(r.tool.wall / Math.max(r.ss.wall, 0.01))} | ${r.st ? f1(r.st.total / r.held) : '-'} | ${r.sst ? f1(r.sst.total / r.held) : '-'} | ${f1(r.bytes / 1e6)} |`);
}
L.push('');
if (rows.length >= 2) {
  L.push('Linearity (time ratio against socket ratio; 1.0 = linear):', '');
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1], b = rows[i];
    const k = b.held / a.held;
    L.push(`- ${f0(a.held)} → ${f0(b.held)} sockets (×${f1(k)}): tool wall ×${f1(b.tool.wall / a.tool.wall)}, CPU ×${f1(b.tool.cpu / a.tool.cpu)}, per-socket wall ${f0((a.tool.wall * 1e6) / a.held)} → ${f0((b.tool.wall * 1e6) / b.held)} µs; ss wall ×${f1(b.ss.wall / a.ss.wall)}`);
  }
  const last = rows.at(-1), prev = rows.at(-2);
  const perSocket = (last.tool.wall - prev.tool.wall) / (last.held - prev.held);
  const fixed = last.tool.wall - perSocket * last.held;
  const rssPer = ((last.tool.rssMb - prev.tool.rssMb) * 1024) / (last.held - prev.held);
  L.push(`- fit through the two largest: wall ≈ ${f2(fixed)} s + ${f0(perSocket * 1e6)} µs × sockets (ss: ${f0(((last.ss.wall - prev.ss.wall) / (last.held - prev.held)) * 1e6)} µs × sockets); peak RSS grows ${f1(rssPer)} KiB per socket`);
  L.push(`- extrapolated to 50,000 sockets: ~${f1(fixed + perSocket * 50_000)} s wall, ~${f0(last.tool.rssMb + (rssPer * (50_000 - last.held)) / 1024)} MB peak RSS${last.held < 50_000 ? ` (not measured: the JVM could hold only ${f0(last.held)} here)` : ''}`, '');
}
L.push(`Peak RSS and CPU by source (medians; auto is ${rows[0]?.bp ? 'the bpf source here' : 'pidfd plus sock_diag\'s enrichment here (bpf unavailable)'}):`, '');
L.push('| sockets | auto: CPU s | auto: peak RSS MB | pidfd only: CPU s | pidfd only: peak RSS MB | auto − pidfd: CPU s | auto − pidfd: RSS MB |', '|---|---|---|---|---|---|---|');
for (const r of rows) {
  L.push(`| ${f0(r.held)} | ${f2(r.tool.cpu)} | ${f0(r.tool.rssMb)} | ${f2(r.pidfd.cpu)} | ${f0(r.pidfd.rssMb)} | ${f2(r.tool.cpu - r.pidfd.cpu)} | ${f0(r.tool.rssMb - r.pidfd.rssMb)} |`);
}
if (rows.length >= 2) {
  const last = rows.at(-1), prev = rows.at(-2);
  const per = (k) => ((last[k].rssMb - prev[k].rssMb) * 1024) / (last.held - prev.held);
  const at50k = (k) => last[k].rssMb + (per(k) * (50_000 - last.held)) / 1024;
  L.push('', `Peak RSS per socket (two largest sizes): auto ${f1(per('tool'))} KiB, pidfd only ${f1(per('pidfd'))} KiB; extrapolated to 50,000 sockets: auto ~${f0(at50k('tool'))} MB, pidfd only ~${f0(at50k('pidfd'))} MB`);
}
L.push('');
if (rows.some((r) => r.bp)) {
  L.push('## The bpf source (in process, medians; bench/bpfphases.js)', '');
  L.push('One iterator walk over the target\'s files reads every socket; no fd is duplicated and no option asked for. Fixed cost: loading the object (libbpf reads the kernel\'s BTF, CO-RE, the verifier).', '');
  L.push('| sockets | load ms | walk + read() ms | µs/socket | decode ms | to the model ms | µs/socket | capture (bpf) ms | µs/socket | capture (pidfd) ms | µs/socket | pidfd/bpf | ss -tanuipeim ms | bpf capture/ss | CLI wall s: bpf / pidfd |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows.filter((x) => x.bp)) {
    const b = r.bp, per = (ms) => f1((ms * 1000) / b.sockets);
    L.push(`| ${f0(b.sockets)} | ${f0(b.loadMs)} | ${f1(b.readMs)} | ${per(b.readMs)} | ${f1(b.decodeMs)} | ${f1(b.toModelMs)} | ${per(b.toModelMs)} | ${f0(b.captureBpfMs)} | ${per(b.captureBpfMs)} | ${f0(b.capturePidfdMs)} | ${per(b.capturePidfdMs)} | ${f1(b.capturePidfdMs / b.captureBpfMs)} | ${f0(r.ss.wall * 1000)} | ${f2(b.captureBpfMs / Math.max(r.ss.wall * 1000, 1))} | ${f2(r.tool.wall)} / ${f2(r.pidfd.wall)} |`);
  }
  if (rows.filter((x) => x.bp).length >= 2) {
    const [a, b] = rows.filter((x) => x.bp).slice(-2).map((x) => x.bp);
    const per = (k) => ((b[k] - a[k]) * 1000) / (b.sockets - a.sockets);
    L.push('', `Marginal cost between the two largest sizes: walk + read() ${f2(per('readMs'))} µs/socket, to the model ${f2(per('toModelMs'))} µs/socket, whole bpf capture ${f2(per('captureBpfMs'))} µs/socket (pidfd: ${f2(per('capturePidfdMs'))} µs/socket).`);
  }
  L.push('');
}
if (rows.some((r) => r.st)) {
  L.push('Syscalls per socket by call (tool, strace -c -f):', '');
  const r = rows.at(-1);
  const top = Object.entries(r.st.calls).sort((a, b) => b[1] - a[1]).slice(0, 10);
  L.push(top.map(([k, v]) => `${k} ${f1(v / r.held)}`).join(', '), '');
}
if (phases) {
  L.push(`## Where the time goes (${f0(phases.sockets)} sockets, in process)`, '');
  L.push(`- capture (auto: ${rows.at(-1)?.bp ? 'the bpf source' : "pidfd_getfd + statx + ~30 getsockopt + names + ioctls + close per socket, then sock_diag's enrichment"}): ${f0(phases.captureMs)} ms (${f1((phases.captureMs * 1000) / phases.sockets)} µs/socket); through the pidfd source alone ${f0(phases.capturePidfdMs)} ms (${f1((phases.capturePidfdMs * 1000) / phases.sockets)} µs/socket); live heap after it ${phases.liveHeapAfterCaptureMb} MB (${f2((phases.liveHeapAfterCaptureMb * 1000) / phases.sockets)} KB/socket: the RawSockets, held until the end)`);
  L.push(`- analyze (roles, verdicts, Java calls), streamed: ${f0(phases.analyzeMs)} ms (${f1((phases.analyzeMs * 1000) / phases.sockets)} µs/socket)`);
  L.push(`- render JSON, streamed: ${f0(phases.renderMs)} ms (${f1((phases.renderMs * 1000) / phases.sockets)} µs/socket) for ${f1(phases.jsonBytes / 1e6)} MB (${f0(phases.jsonBytes / phases.sockets)} bytes/socket; ss prints ~${f0(ssBytesPerSocket)} bytes/socket)`);
  L.push(`- for comparison, the whole report held at once (--format text): live heap ${phases.liveHeapWholeReportMb} MB`);
  L.push(`- koffi: ${phases.nsPerGetsockopt} ns per getsockopt call (FFI + syscall), ${phases.nsPerCloseEbadf} ns per close(-1) (FFI + the cheapest syscall)`, '');
}
if (profile) {
  L.push(`Top self time, \`node --cpu-prof\` (${f0(profile.totalMs)} ms sampled):`, '');
  L.push('| self ms | % | function |', '|---|---|---|');
  for (const t of profile.top) L.push(`| ${f0(t.ms)} | ${f1(t.pct)} | \`${t.fn}\` |`);
  L.push('');
}
L.push('## Host-wide sockets do not cost the tool', '');
L.push('| host | sockets on host | tool wall s | tool CPU s | tool syscalls | ss wall s | ss CPU s |', '|---|---|---|---|---|---|---|');
for (const h of hostRows) L.push(`| ${h.label} | ${f0(h.hostSockets)} | ${f2(h.tool.wall)} | ${f2(h.tool.cpu)} | ${h.st ? f0(h.st.total) : '-'} | ${f2(h.ss.wall)} | ${f2(h.ss.cpu)} |`);
L.push('');
if (hostRows.length === 2) L.push(`Tool ×${f2(hostRows[1].tool.wall / hostRows[0].tool.wall)} wall, syscalls ${hostRows[0].st && hostRows[1].st ? `×${f2(hostRows[1].st.total / hostRows[0].st.total)}` : '-'}; ss ×${f1(hostRows[1].ss.wall / hostRows[0].ss.wall)}.`, '');
if (access) {
  L.push(`Host-wide reads of one auto report (strace -e openat,socket): /proc/net files opened: ${access.procNet.length ? access.procNet.join('; ') : 'none'}; netlink sockets: ${access.netlink.length || 'none'}; other processes' /proc entries: ${access.procPidOther.length ? access.procPidOther.join(', ') : 'none'}.`, '');
}
// The hand-written notes at the end of results.md survive a regeneration.
const RESULTS = join(ROOT, 'bench', 'results.md');
const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '';
const notesAt = old.indexOf('\n## Notes');
const md = `${L.join('\n')}${notesAt >= 0 ? `\n${old.slice(notesAt + 1)}` : ''}`;
writeFileSync(RESULTS, md);
process.stdout.write(`${md}\n`);
rmSync(WORK, { recursive: true, force: true });
