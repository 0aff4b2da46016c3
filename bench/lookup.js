// node bench/lookup.js: lookupSockdiag (exact lookups) against enrichWithSockdiag
// (whole-namespace dumps) for one target JVM, first alone, then beside other
// processes holding many sockets. The JVMs run in a network namespace of their
// own (ip netns), so sockets other programs hold on this machine do not blur
// the figures; both functions enter it, as for any containerized target. In
// process, on the built dist/; each figure is the median of --reps runs, the
// two alternating. Needs root (pidfd, setns, ip netns).
//
//   node bench/lookup.js [--target 1000] [--noise 20000] [--reps 11]
import './cleanenv.js'; // the environment a host's root shell has (see there)
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '..');
const sd = await import(join(ROOT, 'dist', 'sources', 'sockdiag.js'));
const diag = await import(join(ROOT, 'dist', 'linux', 'diagsocket.js'));
const { PidfdSource } = await import(join(ROOT, 'dist', 'sources', 'pidfd.js'));
const { socketFds } = await import(join(ROOT, 'dist', 'linux', 'proc.js'));

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : def; };
const TARGET = opt('target', 1000), NOISE = opt('noise', 20000), REPS = opt('reps', 11);
const PER_PROCESS = 9500; // under a 10,000..20,000 fd limit
const WORK = join(tmpdir(), `knetstat-lookup-bench-${process.pid}`);
const NS = `knjlookup${process.pid}`;
const log = (s) => process.stderr.write(`bench: ${s}\n`);

mkdirSync(WORK, { recursive: true });
execFileSync('ip', ['netns', 'add', NS]);
execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
execFileSync('javac', ['-d', WORK, join(ROOT, 'samples', 'java', 'ManySockets.java')], { stdio: 'inherit' });

async function startMany(n, spread) {
  const proc = spawn('ip', ['netns', 'exec', NS, 'java', '-Xshare:auto', '-XX:+UseSerialGC', '-Xmx512m', '-cp', WORK, 'ManySockets', String(n), String(spread)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = await new Promise((res, rej) => {
    createInterface({ input: proc.stdout }).on('line', (l) => { if (l.startsWith('READY')) res(JSON.parse(l.slice(5))); });
    proc.on('exit', (code) => rej(new Error(`ManySockets ${n} exited ${code}`)));
  });
  return { ...ready, stop: () => new Promise((res) => { proc.once('exit', res); proc.stdin.end(); setTimeout(() => proc.kill('SIGKILL'), 5000).unref(); }) };
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
const clone = (m) => [...m.values()].map((s) => structuredClone(s));

function measure(pid, sockets) {
  const t = { lookup: [], enrich: [] }, io = {};
  for (let i = 0; i < 3; i++) { sd.lookupSockdiag(pid, clone(sockets)); sd.enrichWithSockdiag(pid, clone(sockets)); } // warm-up (JIT)
  for (let i = 0; i < REPS; i++) {
    for (const [name, fn] of [['lookup', sd.lookupSockdiag], ['enrich', sd.enrichWithSockdiag]]) {
      const input = clone(sockets);
      diag.resetDiagIoStats();
      const t0 = process.hrtime.bigint();
      const r = fn(pid, input);
      t[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
      io[name] = { ...diag.diagIoStats(), found: r.records.size, notFound: r.notFound.length };
    }
  }
  return { ms: { lookup: median(t.lookup), enrich: median(t.enrich) }, io };
}

/** TCP and UDP sockets of every state in this namespace, as ss counts them. */
function hostSockets() {
  return execFileSync('ip', ['netns', 'exec', NS, 'ss', '-Htuan'], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n').filter(Boolean).length;
}

const target = await startMany(TARGET, 16);
const noise = [];
try {
  const sockets = new Map();
  await new PidfdSource().collect({ target: { pid: target.pid, fds: socketFds(target.pid) }, sockets });
  log(`target: ${sockets.size} sockets (pid ${target.pid})`);
  const rows = [];
  const row = (label) => {
    const host = hostSockets();
    const m = measure(target.pid, sockets);
    rows.push({ label, host, ...m });
    log(`${label}: host ${host} sockets; lookup ${m.ms.lookup.toFixed(1)} ms, enrich ${m.ms.enrich.toFixed(1)} ms`);
  };
  row('target alone');
  for (let left = NOISE; left > 0; left -= PER_PROCESS) noise.push(await startMany(Math.min(PER_PROCESS, left), 16));
  row(`+ ${NOISE} sockets in ${noise.length} other processes`);
  console.log(`target: ManySockets ${TARGET} -> ${sockets.size} TCP/UDP sockets, in network namespace ${NS}; median of ${REPS} runs each, alternating; in process\n`);
  console.log('| namespace | its sockets (ss -tuan) | lookupSockdiag ms | enrichWithSockdiag ms | lookup: sendto / recv / messages | enrich: sendto / recv / messages | found (lookup / enrich) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const l = r.io.lookup, e = r.io.enrich;
    console.log(`| ${r.label} | ${r.host} | ${r.ms.lookup.toFixed(1)} | ${r.ms.enrich.toFixed(1)} | ${l.sendto} / ${l.recv} / ${l.messages} | ${e.sendto} / ${e.recv} / ${e.messages} | ${l.found} / ${e.found} |`);
  }
} finally {
  await target.stop();
  for (const j of noise) await j.stop();
  rmSync(WORK, { recursive: true, force: true });
  execFileSync('ip', ['netns', 'del', NS]);
}
