// npm run bench:startup: what start-up costs, for dist/ (tsc output), the
// bundle (dist/bundle.cjs), the package's command (dist/start.cjs: the bundle
// with its V8 code cache) and the single executable (dist/knetstat-java),
// against `node -e 0`, in the same run: round-robin over the variants, median
// of --reps runs each. Commands: --version, --help, and a JSON report on a
// SocketLab JVM (10 sockets) and on a ManySockets JVM (100 sockets). Writes the
// "Start-up" section at the end of bench/results.md (bench/run.js keeps
// everything from "## Notes" on, so the section survives it).
//
//   node bench/startup.js [--reps 15] [--no-write]
import { envNote, removed } from './cleanenv.js';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const REPS = Number(args[args.indexOf('--reps') + 1] || 0) || 15;
const WRITE = !args.includes('--no-write');
const NODE = process.execPath;
const EXE = join(ROOT, 'dist', 'knetstat-java');
const log = (s) => process.stderr.write(`bench: ${s}\n`);

const variants = [
  { name: 'dist/ (tsc)', cmd: [NODE, join(ROOT, 'dist', 'cli', 'main.js')] },
  { name: 'dist/bundle.cjs', cmd: [NODE, join(ROOT, 'dist', 'bundle.cjs')] },
  { name: 'dist/start.cjs (npm bin)', cmd: [NODE, join(ROOT, 'dist', 'start.cjs')] },
  { name: 'dist/knetstat-java', cmd: [EXE] },
].filter((v) => existsSync(v.cmd[v.cmd.length - 1]));

const CLASSES = join(tmpdir(), `knetstat-bench-startup-${process.pid}`);

async function startJvm(main, args, count) {
  const p = spawn('java', ['-Xshare:auto', '-XX:+UseSerialGC', '-Xmx64m', '-cp', CLASSES, main, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = await new Promise((res, rej) => {
    createInterface({ input: p.stdout }).on('line', (l) => { if (l.startsWith('READY')) res(JSON.parse(l.slice(5))); });
    p.on('exit', (c) => rej(new Error(`${main} exited ${c}`)));
  });
  return { pid: ready.pid, sockets: count(ready), stop: () => p.kill('SIGKILL') };
}

async function startLabs() {
  mkdirSync(CLASSES, { recursive: true });
  execFileSync('javac', ['-d', CLASSES, join(ROOT, 'samples', 'java', 'SocketLab.java'), join(ROOT, 'samples', 'java', 'ManySockets.java')], { stdio: 'inherit' });
  const small = await startJvm('SocketLab', ['s:server:child.tcpNoDelay=true', 'c:client:keepAlive=true,soLinger=5', 'u:udp', 'n:sschannel'], (r) => Object.keys(r.sockets).length);
  const hundred = await startJvm('ManySockets', ['100', '2'], (r) => r.sockets);
  return [small, hundred];
}

// Wall and CPU (user + sys, from wait4's rusage: microseconds, unlike /usr/bin/time's 10 ms) of
// one run; CPU is the steadier figure on a loaded machine.
const RUNNER = `
import os, subprocess, sys, time
t = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = p.stderr.read()
_, status, ru = os.wait4(p.pid, 0)
wall = time.monotonic() - t
if os.waitstatus_to_exitcode(status) != 0:
    sys.stderr.write(err.decode(errors="replace")); sys.exit(1)
print(wall * 1000, (ru.ru_utime + ru.ru_stime) * 1000)
`;
function timeOnce(cmd, env = process.env) {
  const r = spawnSync('python3', ['-c', RUNNER, ...cmd], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  const [wall, cpu] = r.stdout.trim().split(' ').map(Number);
  return { wall, cpu };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

async function main() {
  const labs = await startLabs();
  const load0 = loadavg();
  try {
    const cases = [
      { name: '`node -e 0`', rows: [{ name: 'node -e 0', cmd: [NODE, '-e', '0'] }] },
      // For the record only: the same start in the caller's environment (see cleanenv.js).
      ...(Object.keys(removed).length ? [{ name: 'callers', rows: [{ name: 'node -e 0, caller\'s environment', cmd: [NODE, '-e', '0'], env: { ...process.env, ...removed } }] }] : []),
      // What every report of dist/start.cjs loads before its first system call (bench/floor-start.cjs).
      ...(existsSync(join(ROOT, 'dist', 'bundle.cjs.cache')) ? [{ name: 'floor', rows: [{ name: 'floor-start', cmd: [NODE, join(ROOT, 'bench', 'floor-start.cjs')] }] }] : []),
      // auto (the bpf source as root: its object's load is a fixed cost) and the pidfd source.
      ...[['--version'], ['--help'], ...labs.map((l) => [String(l.pid), '-f', 'json', '-q']), [String(labs[1].pid), '-f', 'json', '-q', '--source', 'pidfd']].map((a, i) => ({
        name: i < 2 ? `\`${a.join(' ')}\`` : `\`<pid> ${a.slice(1).join(' ')}\`, ${labs[Math.min(i - 2, 1)].sockets} sockets`,
        rows: variants.map((v) => ({ name: v.name, cmd: [...v.cmd, ...a] })),
      })),
    ];
    const all = cases.flatMap((c) => c.rows);
    for (const r of all) { r.wall = []; r.cpu = []; timeOnce(r.cmd, r.env); } // warm the page cache
    for (let i = 0; i < REPS; i++) {
      for (const r of all) {
        const t = timeOnce(r.cmd, r.env);
        r.wall.push(t.wall);
        r.cpu.push(t.cpu);
      }
    }
    const node = cases[0].rows[0];
    const base = { wall: median(node.wall), cpu: median(node.cpu) };
    const callers = cases.find((c) => c.name === 'callers')?.rows[0];
    const floor = cases.find((c) => c.name === 'floor')?.rows[0];
    const cell = (r, k) => `${median(r[k]).toFixed(0)} ms (×${(median(r[k]) / base[k]).toFixed(2)})`;
    const lines = [];
    lines.push(`| command | ${variants.map((v) => `${v.name} wall | ${v.name} CPU`).join(' | ')} |`, `|---|${variants.map(() => '---|---|').join('')}`);
    for (const c of cases.slice(1).filter((c) => c.name !== 'callers' && c.name !== 'floor')) lines.push(`| ${c.name} | ${c.rows.map((r) => `${cell(r, 'wall')} | ${cell(r, 'cpu')}`).join(' | ')} |`);
    const load1 = loadavg();
    const text = [
      `## Start-up (bench/startup.js, \`npm run bench:startup\`)`,
      '',
      `Generated on ${new Date().toISOString()}; node ${process.version}; median of ${REPS} runs each, round-robin over every command below in the same run; wall time from spawn to exit and CPU time (user + sys, wait4), output to /dev/null.`,
      `Ratios are to \`node -e 0\` (${base.wall.toFixed(0)} ms wall, ${base.cpu.toFixed(0)} ms CPU). Reports: a SocketLab JVM with ${labs[0].sockets} sockets, a ManySockets JVM with ${labs[1].sockets}. Load average at start ${load0.map((x) => x.toFixed(2)).join(' / ')}, at end ${load1.map((x) => x.toFixed(2)).join(' / ')}${Math.max(load0[0], load1[0]) > 0.5 ? ' — **other load was present: figures are noisy**' : ''}.`,
      `${envNote()}${callers ? ` In the caller's environment \`node -e 0\` takes ${median(callers.wall).toFixed(0)} ms wall (${median(callers.cpu).toFixed(0)} ms CPU): every ratio below would look better by that much added to both sides.` : ''}`,
      ...(floor ? [`Floor of a report (bench/floor-start.cjs: Node's start, dist/bundle.cjs read and compiled from its code cache without running it, koffi's native module loaded; what every report of dist/start.cjs loads before its first system call on the JVM): ${cell(floor, 'wall')} wall, ${cell(floor, 'cpu')} CPU.`] : []),
      '',
      ...lines,
      '',
    ].join('\n');
    process.stdout.write(`${text}\n`);
    if (WRITE) {
      const file = join(ROOT, 'bench', 'results.md');
      const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
      const at = old.indexOf('\n## Start-up (bench/startup.js');
      // Up to the next section, or another generator's marked section (bench/observe.js).
      const end = at < 0 ? -1 : [old.indexOf('\n## ', at + 1), old.indexOf('\n<!-- ', at + 1)].filter((i) => i >= 0).reduce((x, y) => Math.min(x, y), Infinity);
      const next = at < 0 ? `${old.trimEnd()}\n\n${text}` : `${old.slice(0, at)}\n${text}${end === Infinity || end < 0 ? '' : old.slice(end)}`;
      writeFileSync(file, next);
      log('bench/results.md: Start-up section written');
    }
  } finally {
    for (const l of labs) l.stop();
    rmSync(CLASSES, { recursive: true, force: true });
  }
}

await main();
