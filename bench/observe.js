// node bench/observe.js: what --observe costs.
//  1. The overhead users pay: reads per second of a read-heavy JVM
//     (samples/java/ReadHeavy.java: client Sockets with setSoTimeout reading
//     512-byte pieces as fast as loopback delivers them, the worst case for a
//     recording of every read) without and with an observation running;
//     windows alternate, medians of --reps; the JVM's CPU per read too.
//  2. The time to parse a 10 s recording of that JVM (in process, on dist/),
//     and what it weighs.
// On JDK 17 and, where present, Temurin 25. Writes its section of
// bench/results.md (between the observe markers, after the hand-written notes,
// which bench/run.js keeps). Needs root or the JVM's user; run after `npm run build`.
//
//   node bench/observe.js [--reps 3] [--window 5] [--clients 2] [--no-write]
import './cleanenv.js'; // the environment a host's root shell has (see there)
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '..');
const { observe } = await import(join(ROOT, 'dist', 'observe', 'index.js'));
const { chunks } = await import(join(ROOT, 'dist', 'observe', 'jfr', 'recording.js'));
const { socketEvents, SOCKET_EVENTS } = await import(join(ROOT, 'dist', 'observe', 'jfr', 'socket.js'));
const { SocketActivity } = await import(join(ROOT, 'dist', 'observe', 'activity.js'));

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : def; };
const REPS = opt('reps', 3), WINDOW = opt('window', 5), CLIENTS = opt('clients', 2);
const WORK = join(tmpdir(), `knetstat-observe-bench-${process.pid}`);
const log = (s) => process.stderr.write(`bench: ${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

const JDKS = [['JDK 17', 'java'], ...(existsSync('/usr/lib/jvm/temurin-25-jdk-amd64/bin/java') ? [['Temurin 25', '/usr/lib/jvm/temurin-25-jdk-amd64/bin/java']] : [])];

mkdirSync(WORK, { recursive: true });
execFileSync('javac', ['--release', '17', '-d', WORK, join(ROOT, 'samples', 'java', 'ReadHeavy.java')]);

async function startHeavy(java) {
  const p = spawn(java, ['-Xshare:auto', '-XX:+UseSerialGC', '-Xmx64m', '-cp', WORK, 'ReadHeavy', `clients=${CLIENTS}`, 'chunk=512'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  const waiters = [];
  createInterface({ input: p.stdout }).on('line', (l) => { lines.push(l); waiters.splice(0).forEach((w) => w()); });
  const next = async (prefix) => {
    for (;;) {
      const i = lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return lines.splice(i, 1)[0].slice(prefix.length).trim();
      await new Promise((r) => waiters.push(r));
    }
  };
  const ready = JSON.parse(await next('READY'));
  const cpu = () => { const f = readFileSync(`/proc/${ready.pid}/stat`, 'utf8'); const r = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(r[11]) + Number(r[12])) / TICKS; };
  /** Reads, bytes, CPU s at this instant. */
  const sample = async () => { p.stdin.write('count\n'); const [reads, bytes, nanos] = (await next('COUNT')).split(' ').map(Number); return { reads, bytes, nanos, cpu: cpu() }; };
  return { pid: ready.pid, sample, stop: () => { p.stdin.end(); p.kill('SIGKILL'); } };
}

/** Reads/s and CPU µs per read over `seconds`, from now. */
async function measure(jvm, seconds) {
  const a = await jvm.sample();
  await sleep(seconds * 1000);
  const b = await jvm.sample();
  const reads = b.reads - a.reads;
  return { perSecond: reads / ((b.nanos - a.nanos) / 1e9), cpuUsPerRead: ((b.cpu - a.cpu) * 1e6) / reads };
}

const results = [];
for (const [name, java] of JDKS) {
  log(`${name}: ReadHeavy with ${CLIENTS} clients`);
  const jvm = await startHeavy(java);
  await sleep(3000); // JIT warm-up
  // The first observation attaches (starts the listener, JFR): not counted.
  await observe(jvm.pid, { durationMs: 2000 });
  const without = [], withObs = [];
  let parse;
  for (let rep = 0; rep < REPS; rep++) {
    without.push(await measure(jvm, WINDOW));
    // An observation of WINDOW + 2 s: measure its middle WINDOW s (the recording runs throughout).
    let inside;
    const raw = [];
    const last = rep === REPS - 1;
    const obs = observe(jvm.pid, {
      durationMs: (last ? 10 : WINDOW + 2) * 1000, maxBytes: 2 * 1024 ** 3,
      onStarted: () => { inside = sleep(1000).then(() => measure(jvm, WINDOW)); },
      ...(last ? { onRawChunk: (c) => raw.push(c) } : {}),
    });
    const run = await obs;
    withObs.push(await inside);
    if (last) parse = { raw, run };
    log(`${name} rep ${rep + 1}: ${Math.round(without.at(-1).perSecond)} reads/s without, ${Math.round(withObs.at(-1).perSecond)} with`);
  }
  jvm.stop();
  // 2. Parse the 10 s recording again, in process: best of 3 (CPU), and the events it holds.
  const buf = Buffer.concat(parse.raw);
  let best = Infinity, events = 0;
  for (let i = 0; i < 3; i++) {
    const u0 = process.cpuUsage();
    const a = new SocketActivity();
    for (const c of chunks(buf, SOCKET_EVENTS)) socketEvents(c, (e) => a.add(e));
    const u = process.cpuUsage(u0);
    best = Math.min(best, (u.user + u.system) / 1000);
    events = a.reads + a.writes;
  }
  results.push({
    name, without: median(without.map((x) => x.perSecond)), with: median(withObs.map((x) => x.perSecond)),
    cpuWithout: median(without.map((x) => x.cpuUsPerRead)), cpuWith: median(withObs.map((x) => x.cpuUsPerRead)),
    recording: { bytes: buf.length, chunks: parse.run.recording.chunks, events, seconds: parse.run.recording.seconds, dropped: !!parse.run.droppedBeforeNs },
    parseMs: best,
  });
}
rmSync(WORK, { recursive: true, force: true });

const f = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const lines = [
  '## --observe (bench/observe.js)',
  '',
  `Generated by \`node bench/observe.js\` on ${new Date().toISOString()}: ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(2)).join(' / ')} at the end; ReadHeavy with ${CLIENTS} client Sockets (setSoTimeout 30 s) reading 512-byte pieces from loopback as fast as they come: the worst case for a recording of every read. Medians of ${REPS} windows of ${WINDOW} s, alternating without and with an observation running (JFR jdk.SocketRead + jdk.SocketWrite, threshold 0 ms, stack traces).`,
  '',
  '| JDK | reads/s without | reads/s while observed | throughput kept | JVM CPU µs/read without | with | 10 s recording | events | parse (CPU) | per event | parse MB/s |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.map((r) => `| ${r.name} | ${f(r.without)} | ${f(r.with)} | ${f((100 * r.with) / r.without)} % | ${f(r.cpuWithout, 2)} | ${f(r.cpuWith, 2)} | ${f(r.recording.bytes / 1e6, 1)} MB, ${r.recording.chunks} chunks${r.recording.dropped ? ' (oldest dropped)' : ''} | ${f(r.recording.events)} | ${f(r.parseMs)} ms | ${f((r.parseMs * 1000) / r.recording.events, 2)} µs | ${f(r.recording.bytes / 1e6 / (r.parseMs / 1000))} |`),
  '',
  'Under other load (see the load average), reads/s swing by ±50 % from one window to the next; the JVM\'s CPU per read is the steadier measure of the cost.',
  '',
  'What it means: while observed, every socket read and write of the JVM costs a JFR event with a stack trace; a JVM doing little else than reading keeps the share of its throughput above. A service that reads far less often pays proportionally less. The recording is parsed chunk by chunk as it arrives (one chunk, ~12 MB, held at a time); a 10 s recording of a quieter JVM is a few hundred KB and parses in milliseconds.',
  '',
];
const section = `<!-- observe:begin -->\n${lines.join('\n')}<!-- observe:end -->\n`;
process.stdout.write(`${lines.join('\n')}\n`);
if (!args.includes('--no-write')) {
  const file = join(ROOT, 'bench', 'results.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const a = old.indexOf('<!-- observe:begin -->'), b = old.indexOf('<!-- observe:end -->');
  const next = a >= 0 && b > a ? old.slice(0, a) + section + old.slice(b + '<!-- observe:end -->\n'.length) : `${old.trimEnd()}\n\n${section}`;
  writeFileSync(file, next);
  log('wrote bench/results.md');
}
