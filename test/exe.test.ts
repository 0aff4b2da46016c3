// The bundle (dist/bundle.cjs, and dist/start.cjs, the package's command, which
// runs it through its V8 code cache) and the single executable
// (dist/knetstat-java, npm run build:exe) against the unbundled tool
// (dist/cli/main.js):
// - the bundle reads its tables from inside itself and renders as dist/ does;
// - the executable, in a minimal Debian without Node (test/helpers/nonode.ts),
//   reports a real JVM of the host, checks it against a policy, and writes a
//   snapshot that it and dist/ render identically; --version is the same;
//   --observe runs its helper from itself, as the JVM's user;
// - the environment cannot make the executable load code (NODE_OPTIONS,
//   OPENSSL_CONF, NODE_REPL_EXTERNAL_MODULE), each next to a control run of
//   plain node that does load it, so the test can fail;
// - koffi.node is unpacked into a private directory and gone after the run,
//   and only by a command that makes a native call (--version, --help and
//   render load neither koffi nor fast-xml-parser nor ora; --version and --help
//   no node:child_process, which commander gets lazily from the bundle; a run
//   that writes nothing to stderr never makes process.stderr).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from './helpers/cli.js';
import { XSD, xmllint } from './helpers/junit.js';
import { ROOT, startJvm, type Jvm } from './helpers/jvm.js';
import { AS_HOSTILE } from './helpers/hostile.js';
import { JDKS, startLab, TEST_UID } from './helpers/observe.js';
import { chrootUnavailable, ensureRootfs, EXE, inChroot, outside, prepare } from './helpers/nonode.js';
// @ts-expect-error plain JavaScript build script
import { BLANKED, cStringLiterals } from '../scripts/sea.mjs';

const BUNDLE = join(ROOT, 'dist', 'bundle.cjs');
const START = join(ROOT, 'dist', 'start.cjs');
const noBundle = existsSync(BUNDLE) && existsSync(START) ? undefined : 'dist/bundle.cjs not built (npm run build)';
const noExe = existsSync(EXE) ? undefined : 'dist/knetstat-java not built (npm run build:exe)';
const noChroot = noExe ?? chrootUnavailable();
for (const why of [noBundle, noExe, noChroot]) if (why) console.warn(`exe.test.ts: skipping tests: ${why}`);

const SNAPSHOTS = ['clients.json', 'servers.json', 'udp-dial-redacted.json'].map((f) => join(ROOT, 'samples', 'snapshots', f));
const FORMATS = ['text', 'json', 'knetstat', 'junit'];
const POLICY = join(ROOT, 'samples', 'policies', 'example.json');

function run(cmd: string[], env: NodeJS.ProcessEnv = process.env, input?: string) {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', env, input, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** What may differ between two captures of the same idle JVM a moment apart. */
function stable(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(stable);
  if (x && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x).filter(([k]) => !['capturedAt', 'tcpInfo', 'expiresMs', 'timestamp'].includes(k)).map(([k, v]) => [k, stable(v)]));
  }
  return x;
}

/** A command that makes native calls (koffi): a report on the process itself (no JVM needed). */
const nativeCall = (cmd: string[]) => ['sh', '-c', 'exec "$@" "$$" --any -q -f json', 'sh', ...cmd];
/**
 * A preload (node -r) that wraps Node's getter of process[stream]: `made` says whether the
 * stream was made; `line`, a JavaScript expression over it, is written to fd 2 at exit.
 */
function streamSpy(stream: 'stdout' | 'stderr', line: string): string {
  return `const d = Object.getOwnPropertyDescriptor(process, '${stream}'); let made = false;\n`
    + `Object.defineProperty(process, '${stream}', { configurable: true, enumerable: true, get() { made = true; return d.get.call(process); } });\n`
    + `process.on('exit', () => require('fs').writeSync(2, ${line} + '\\n'));\n`;
}

/** Runs fn with the path of a preload (node -r) holding code, in a directory removed afterwards. */
function withPreload(code: string, fn: (pre: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'kj-preload-'));
  try {
    const pre = join(dir, 'preload.cjs');
    writeFileSync(pre, code);
    fn(pre);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Files a run opened (strace), without the ones it only looked for. */
function opened(cmd: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const r = run(['strace', '-f', '-e', 'trace=open,openat', ...cmd], env);
  return r.stderr.split('\n').filter((l) => /openat?\(/.test(l) && !/ENOENT/.test(l));
}

/**
 * cmd run (under strace) with a stdout whose reader has gone: a pipe with its read end closed.
 * Its exit code, strace's lines, and the lines that wrote text to fd 1 and met EPIPE.
 */
function closedPipe(cmd: string[], text: string): { rc: number; lines: string[]; epipe: number[] } {
  const dir = mkdtempSync(join(tmpdir(), 'kj-epipe-'));
  try {
    const trace = join(dir, 'strace.txt');
    const closed = "import os, subprocess, sys\nr, w = os.pipe()\nos.close(r)\nprint('rc=%d' % subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.DEVNULL).returncode)";
    const r = run(['python3', '-c', closed, 'strace', '-f', '-s', '8192', '-e', 'trace=openat,write', '-o', trace, ...cmd]);
    const lines = readFileSync(trace, 'utf8').split('\n');
    const epipe = lines.flatMap((l, i) => (l.includes(`write(1, ${JSON.stringify(text)}`) && / = -1 EPIPE/.test(l) ? [i] : []));
    return { rc: Number(/rc=(-?\d+)/.exec(r.stdout)?.[1] ?? -1), lines, epipe };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * cmd run under strace (its opens into trace) with stdout a pipe (a real one, os.pipe: Node's
 * child_process would give a socket), /dev/null ('null') or the file named.
 */
function withStdout(to: string, trace: string, cmd: string[]): { rc: number; stdout: string } {
  const py = `import subprocess, sys
to, trace, *cmd = sys.argv[1:]
full = ['strace', '-f', '-e', 'trace=openat', '-o', trace] + cmd
if to == 'pipe':
    p = subprocess.run(full, stdout=subprocess.PIPE)
    sys.stdout.buffer.write(p.stdout)
elif to == 'null':
    p = subprocess.run(full, stdout=subprocess.DEVNULL)
else:
    with open(to, 'wb') as f:
        p = subprocess.run(full, stdout=f)
sys.stderr.write('rc=%d' % p.returncode)`;
  const r = run(['python3', '-c', py, to, trace, ...cmd]);
  return { rc: Number(/rc=(-?\d+)$/.exec(r.stderr)?.[1] ?? -1), stdout: r.stdout };
}

/** What cmd writes on a terminal of that many columns. */
function onTty(cmd: string[], cols: number): string {
  return spawnSync('script', ['-qec', `stty cols ${cols}; ${cmd.join(' ')}`, '/dev/null'], { encoding: 'utf8' }).stdout.replace(/\r\n/g, '\n');
}

describe.skipIf(noBundle)(`dist/bundle.cjs and dist/start.cjs${noBundle ? ` (skipped: ${noBundle})` : ''}`, () => {
  it('say the same --version and --help as dist/', () => {
    for (const a of [['--version'], ['--help'], ['check', '--help']]) {
      for (const file of [BUNDLE, START]) {
        const b = run([process.execPath, file, ...a]);
        expect(b.code).toBe(0);
        expect(b.stdout).toBe(runCli(a).stdout);
      }
    }
  });

  it('start.cjs compiles the bundle with the code cache beside it, which this Node accepts', () => {
    const src = readFileSync(START, 'utf8');
    const head = JSON.parse(/new Script\((".*?") \+ readFileSync/.exec(src)![1]!);
    const tail = JSON.parse(/readFileSync\(file, 'utf8'\) \+ (".*?"),/.exec(src)![1]!);
    const probe = `const vm = require('node:vm'), fs = require('node:fs');
      const s = new vm.Script(${JSON.stringify(head)} + fs.readFileSync(${JSON.stringify(BUNDLE)}, 'utf8') + ${JSON.stringify(tail)}, { filename: ${JSON.stringify(BUNDLE)}, cachedData: fs.readFileSync(${JSON.stringify(`${BUNDLE}.cache`)}) });
      console.log(s.cachedDataRejected);`;
    expect(run([process.execPath, '-e', probe]).stdout.trim()).toBe('false');
    // A cache V8 refuses (here: made for other text) costs nothing but the cache: the command still runs.
    const dir = mkdtempSync(join(tmpdir(), 'exe-start-'));
    try {
      for (const f of ['start.cjs', 'bundle.cjs']) spawnSync('cp', [join(ROOT, 'dist', f), dir]);
      writeFileSync(join(dir, 'bundle.cjs.cache'), Buffer.alloc(1024, 7));
      const r = run([process.execPath, join(dir, 'start.cjs'), '--help']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(runCli(['--help']).stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bench/floor-start.cjs (the start-up floor of a report) compiles the bundle as start.cjs does, cache accepted, and loads the koffi.node a report loads', () => {
    const files = (cmd: string[]) => opened(cmd).map((l) => /"([^"]+)"/.exec(l)?.[1]).filter((f): f is string => !!f && f.startsWith(join(ROOT, 'dist')));
    const floor = run([process.execPath, join(ROOT, 'bench', 'floor-start.cjs')]);
    expect(floor.code, floor.stderr).toBe(0); // 1: this Node rejected the cache, compiled differently from start.cjs
    const mine = new Set(files([process.execPath, join(ROOT, 'bench', 'floor-start.cjs')]));
    expect([...mine].sort()).toEqual([BUNDLE, `${BUNDLE}.cache`, join(ROOT, 'dist', 'bundle-assets', 'koffi.node')].sort());
    const report = new Set(files(nativeCall([process.execPath, START])));
    for (const f of mine) expect(report.has(f), f).toBe(true);
  });

  it('--version, --help and render load no koffi, no fast-xml-parser and no ora; JUnit loads fast-xml-parser, a native call koffi', () => {
    // Each package announces itself by its native module or a module-level string only its code has.
    const koffiLoaded = (files: string[]) => files.some((l) => l.includes('koffi.node'));
    for (const file of [BUNDLE, START]) {
      for (const a of [['--version'], ['--help'], ['render', SNAPSHOTS[0]!, '-f', 'json']]) {
        expect(koffiLoaded(opened([process.execPath, file, ...a])), `${a.join(' ')}`).toBe(false);
      }
      expect(koffiLoaded(opened(nativeCall([process.execPath, file])))).toBe(true);
    }
    // In dist/ (where each package is its own files) the same, file by file.
    const unbundled = (a: string[]) => opened([process.execPath, CLI, ...a]).filter((l) => l.includes('node_modules/')).map((l) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(l)?.[1]);
    for (const a of [['--version'], ['--help'], ['render', SNAPSHOTS[0]!, '-f', 'json']]) {
      const pkgs = new Set(unbundled(a));
      for (const p of ['koffi', 'fast-xml-parser', 'ora']) expect(pkgs.has(p), `${a.join(' ')} loads ${p}`).toBe(false);
    }
    expect(new Set(unbundled(['render', SNAPSHOTS[0]!, '-f', 'junit'])).has('fast-xml-parser')).toBe(true);
    expect(new Set(unbundled(['render', SNAPSHOTS[0]!, '-f', 'junit'])).has('koffi')).toBe(false);
  });

  it('a capture through bpf starts the object\'s load before the command line is read, and the capture takes that load (src/cli/early.ts)', () => {
    const traced = (cmd: string[]) => {
      const r = run(['strace', '-f', '-e', 'trace=openat,bpf', ...cmd]);
      return { code: r.code, opened: r.stderr.split('\n').filter((l) => /openat\(.*knetstat\.bpf\.o/.test(l) && !/ENOENT/.test(l)).length, loads: r.stderr.split('\n').filter((l) => /BPF_PROG_LOAD.*BPF_PROG_TYPE_(TRACING|SYSCALL)/.test(l) && !/= -1/.test(l)).length };
    };
    // A load is libbpf's (a tracing program per walk) or the kernel loader's (one syscall program,
    // which loads the walks from inside the kernel, unseen by strace).
    // The executable opens the object from its own memory (no file of that name): its loads count.
    for (const tool of [[process.execPath, BUNDLE], [process.execPath, START], ...(noExe ? [] : [[EXE]])]) {
      const name = tool.at(-1)!;
      const exe = tool.length === 1;
      // A report: one object opened and loaded, not a second one by the capture.
      expect(traced(nativeCall(tool)), name).toMatchObject({ code: 0, loads: 1, ...(exe ? {} : { opened: 1 }) });
      // A format the command's action refuses (exit 2, one line): the load had started before it looked.
      expect(traced(['sh', '-c', 'exec "$@" "$$" -f bogus', 'sh', ...tool]), name).toMatchObject({ code: 2, ...(exe ? { loads: 1 } : { opened: 1 }) });
      // The executable opens the object from its own memory: its one private directory is koffi.node's.
      if (exe) {
        const r = run(['strace', '-f', '-e', 'trace=mkdir,mkdirat', ...nativeCall(tool)]);
        expect(r.stderr.split('\n').filter((l) => /mkdir(at)?\(.*knetstat-java-/.test(l) && / = 0$/.test(l)), name).toHaveLength(1);
      }
      // Other sources and help: no object at all.
      for (const a of [['--source', 'pidfd'], ['--help']]) {
        expect(traced(['sh', '-c', 'exec "$@" "$$" --any -q -f json ' + a.join(' '), 'sh', ...tool]), `${name} ${a.join(' ')}`).toMatchObject({ code: 0, opened: 0, loads: 0 });
      }
    }
    // The control: without the preamble (dist/, tsc) the load starts at the capture, after the action's check.
    expect(traced(['sh', '-c', 'exec "$@" "$$" -f bogus', 'sh', process.execPath, CLI])).toMatchObject({ code: 2, opened: 0 });
  });

  it('--version, --help, renders and reports load none of Node\'s child_process, net, stream and v8 (commander and the tool load them at first use)', () => {
    // A preload reports which of those built-in modules were loaded by exit (Node's own list), on fd 2
    // (process.stderr, a pipe here, would load net and stream itself).
    withPreload("process.on('exit', () => require('fs').writeSync(2, 'builtins:' + ['child_process', 'net', 'stream', 'v8'].filter((m) => process.moduleLoadList.includes('NativeModule ' + m)).join(',') + ';\\n'));\n", (pre) => {
      const loaded = (cmd: string[]) => /builtins:([\w,]*);/.exec(run(cmd).stderr)?.[1];
      // (dist/, run as ES modules, gets stream from Node's own ES module loader.)
      for (const file of [BUNDLE, START]) {
        for (const a of [['--version'], ['--help'], ['render', SNAPSHOTS[1]!, '-f', 'json']]) expect(loaded([process.execPath, '-r', pre, file, ...a]), `${file} ${a.join(' ')}`).toBe('');
        // A report on this process (bpf, then pidfd): nothing spawned, no address to validate, a small capture.
        for (const a of [[], ['--source', 'pidfd']]) {
          expect(loaded(['sh', '-c', `exec "$@" "$$" --any -q -f json ${a.join(' ')}`, 'sh', process.execPath, '-r', pre, file]), `${file} report ${a.join(' ')}`).toBe('');
        }
      }
      // The control: the preload does see them when a script loads them.
      expect(loaded([process.execPath, '-r', pre, '-e', "require('node:child_process'); require('node:v8')"])).toBe('child_process,net,stream,v8');
    });
  });

  it('makes process.stderr only when something is written there, and then with its error handler', () => {
    // A preload wraps Node's getter: whether the stream was made, and its 'error' listeners at exit.
    withPreload(streamSpy('stderr', "`stderr:${made}:${made ? process.stderr.listenerCount('error') : 0}`"), (pre) => {
      const spied = (a: string[]) => /stderr:(\w+:\d+)/.exec(run([process.execPath, '-r', pre, ...a]).stderr)?.[1];
      const quiet = [['--version'], ['--help'], ['render', SNAPSHOTS[1]!, '-f', 'json'], ['render', SNAPSHOTS[1]!]];
      // A report without -q, stderr a pipe: whether to show a spinner is decided without the stream.
      const report = (file: string) => /stderr:(\w+:\d+)/.exec(run(['sh', '-c', 'exec "$@" "$$" --any -f json', 'sh', process.execPath, '-r', pre, file]).stderr)?.[1];
      for (const file of [BUNDLE, START, CLI]) {
        for (const a of quiet) expect(spied([file, ...a]), `${file} ${a.join(' ')}`).toBe('false:0');
        expect(report(file), `${file}: a report`).toBe('false:0');
        // The control: a run that warns makes it, with the tool's handler on it.
        expect(spied([file, 'render', join(ROOT, 'samples', 'snapshots', 'not-observed.json'), '-f', 'json'])).toBe('true:1');
      }
    });
  });

  it('makes process.stdout for no command whose standard output is not a terminal (help, the version, reports are written to fd 1)', () => {
    withPreload(streamSpy('stdout', '`stdout:${made}`'), (pre) => {
      const spied = (a: string[], stdout: 'pipe' | 'null') => {
        const r = spawnSync(process.execPath, ['-r', pre, ...a], { encoding: 'utf8', stdio: ['ignore', stdout === 'pipe' ? 'pipe' : 'ignore', 'pipe'], timeout: 60_000 });
        return { made: /stdout:(\w+)/.exec(r.stderr)?.[1], out: r.stdout, code: r.status };
      };
      for (const file of [BUNDLE, CLI]) {
        for (const a of [['--version'], ['--help'], ['check', '--help'], ['render', SNAPSHOTS[1]!, '-f', 'json'], ['render', SNAPSHOTS[1]!]]) {
          for (const to of ['pipe', 'null'] as const) {
            const r = spied([file, ...a], to);
            expect(r.made, `${file} ${a.join(' ')} > ${to}`).toBe('false');
            expect(r.code).toBe(0);
            if (to === 'pipe') expect(r.out).toBe(runCli(a).stdout);
          }
        }
      }
      // The control: Node's own console.log makes it.
      expect(spied(['-e', 'console.log(1)'], 'pipe').made).toBe('true');
    });
  });

  it('start.cjs answers --version (and -V) without reading the bundle, and the bundle answers when that write fails', () => {
    for (const a of ['--version', '-V']) {
      const files = opened([process.execPath, START, a]);
      expect(files.filter((l) => l.includes('bundle.cjs')), a).toEqual([]);
      expect(run([process.execPath, START, a]).stdout).toBe(runCli(['--version']).stdout);
    }
    // With more arguments it is the CLI's: commander says what is wrong.
    expect(opened([process.execPath, START, '--version', 'x']).some((l) => l.includes('bundle.cjs'))).toBe(true);
    // A stdout whose reader has gone (a pipe with its read end closed): start.cjs's write fails with
    // nothing written, the bundle runs, meets EPIPE and ends quietly with 0, as for any command.
    for (const a of [['--version'], ['--help'], ['check', '-h']]) {
      const { lines, rc, epipe } = closedPipe([process.execPath, START, ...a], runCli(a).stdout);
      expect(rc, a.join(' ')).toBe(0);
      expect(epipe, a.join(' ')).toHaveLength(2); // start.cjs's, then the CLI's
      expect(lines.findIndex((l) => /bundle\.cjs"/.test(l))).toBeGreaterThan(epipe[0]!);
    }
  });

  it('start.cjs answers --help and -h, of the program and of each command, without reading the bundle when stdout is a pipe or /dev/null; a file, a socket or a terminal gets the CLI', async () => {
    const { buildProgram } = await import('../src/cli/program.js');
    const lines = [['--help'], ['-h'], ...buildProgram().commands.flatMap((c) => [[c.name(), '--help'], [c.name(), '-h']])];
    expect(lines.length).toBeGreaterThan(10);
    const dir = mkdtempSync(join(tmpdir(), 'kj-help-'));
    try {
      const trace = join(dir, 'trace.txt'), file = join(dir, 'out.txt');
      for (const a of lines) {
        const want = runCli(a);
        expect(want.code, a.join(' ')).toBe(0);
        for (const to of ['pipe', 'null', file]) {
          const r = withStdout(to, trace, [process.execPath, START, ...a]);
          expect(r.rc, `${a.join(' ')} > ${to}`).toBe(0);
          expect(readFileSync(trace, 'utf8').includes('bundle.cjs'), `${a.join(' ')} > ${to}`).toBe(to === file);
          if (to !== 'null') expect(to === file ? readFileSync(file, 'utf8') : r.stdout, `${a.join(' ')} > ${to}`).toBe(want.stdout);
        }
        // A socket (what Node's child_process gives a child for 'pipe'): written by the CLI.
        expect(opened([process.execPath, START, ...a]).some((l) => l.includes('bundle.cjs')), a.join(' ')).toBe(true);
        expect(run([process.execPath, START, ...a])).toEqual(want);
      }
      // A terminal 120 columns wide: commander's help at that width, not the fixed text (80).
      const wide = onTty([process.execPath, START, '--help'], 120);
      expect(wide).toBe(onTty([process.execPath, CLI, '--help'], 120));
      expect(wide).not.toBe(runCli(['--help']).stdout);
      expect(Math.max(...wide.split('\n').map((l) => l.length))).toBeGreaterThan(80);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names every error class as written (the bundle keeps no function names: an error\'s name is its class\'s)', () => {
    const src = execFileSync('grep', ['-rhoE', 'class [A-Za-z_$][A-Za-z0-9_$]* extends [A-Za-z_$]*Error\\b', join(ROOT, 'src')], { encoding: 'utf8' });
    const errors = [...new Set(src.trim().split('\n').map((l) => l.split(' ')[1]!))];
    expect(errors).toEqual(expect.arrayContaining(['KnetstatError', 'UsageError', 'SysError']));
    const bundle = readFileSync(BUNDLE, 'utf8');
    // `Name=class extends ...` takes its name from the binding; `class Name` has its own.
    expect(errors.filter((n) => !new RegExp(`(?:[^\\w$]${n}=class\\b|\\bclass ${n}\\b)`).test(bundle))).toEqual([]);
  });

  it('renders every sample snapshot in every format exactly as dist/', () => {
    for (const snap of SNAPSHOTS) {
      for (const f of FORMATS) {
        const want = runCli(['render', snap, '-f', f]);
        const got = run([process.execPath, BUNDLE, 'render', snap, '-f', f]);
        expect(got.code, `${snap} -f ${f}: ${got.stderr}`).toBe(want.code);
        expect(got.stdout, `${snap} -f ${f}`).toBe(want.stdout);
      }
    }
  });

  it('runs copied alone with bundle-assets/ (no node_modules), and without bundle-assets/ from an npm install', () => {
    const alone = mkdtempSync(join(tmpdir(), 'exe-bundle-'));
    const inTree = mkdtempSync(join(ROOT, 'dist', '.exe-test-'));
    try {
      // As README says: any name, with bundle-assets/ beside it; no package.json needed (it is CommonJS).
      spawnSync('cp', ['-r', BUNDLE, join(alone, 'knetstat-java.js')]);
      spawnSync('cp', ['-r', join(ROOT, 'dist', 'bundle-assets'), alone]);
      const a = run([process.execPath, join(alone, 'knetstat-java.js'), 'render', SNAPSHOTS[0]!, '-f', 'knetstat']);
      expect(a.code, a.stderr).toBe(0);
      expect(a.stdout).toBe(runCli(['render', SNAPSHOTS[0]!, '-f', 'knetstat']).stdout);
      const n = run(nativeCall([process.execPath, join(alone, 'knetstat-java.js')]));
      expect(n.code, n.stderr).toBe(0);
      expect(JSON.parse(n.stdout).process.comm).toBe('node');
      // No koffi.node beside it: koffi's own package, from the node_modules above it.
      spawnSync('cp', [BUNDLE, inTree]);
      const b = run(['strace', '-f', '-e', 'trace=openat', ...nativeCall([process.execPath, join(inTree, 'bundle.cjs')])]);
      expect(b.code).toBe(0);
      expect(b.stderr).toMatch(/node_modules\/@koromix\/koffi-linux-x64\/linux_x64\/koffi.node", O_RDONLY\|O_CLOEXEC\) = \d+/);
    } finally {
      rmSync(alone, { recursive: true, force: true });
      rmSync(inTree, { recursive: true, force: true });
    }
  });

  it('takes its tables from inside itself and koffi.node from bundle-assets/, not from mappings/ or node_modules/', () => {
    for (const cmd of [[process.execPath, BUNDLE, 'render', SNAPSHOTS[0]!, '-f', 'junit'], nativeCall([process.execPath, START])]) {
      const files = opened(cmd);
      expect(files.filter((l) => l.includes('/mappings/'))).toEqual([]);
      expect(files.filter((l) => l.includes('node_modules'))).toEqual([]);
    }
    expect(opened(nativeCall([process.execPath, START])).some((l) => l.includes('dist/bundle-assets/koffi.node'))).toBe(true);
  });
});

describe.skipIf(noChroot)(`dist/knetstat-java on a host without Node${noChroot ? ` (skipped: ${noChroot})` : ''}`, () => {
  let jvm: Jvm;
  beforeAll(async () => {
    ensureRootfs();
    jvm = await startJvm('SocketLab', ['db:client:keepAlive=true,tcpNoDelay=true', 'big:server:backlog=200,rcvBuf=32768', 'u:udp', 'rst:client:soLinger=0']);
  }, 900_000);
  afterAll(async () => { await jvm?.stop(); });

  it('has no Node in reach: no node or nodejs on PATH, no libnode', () => {
    prepare();
    const r = inChroot(['sh', '-c', 'command -v node || command -v nodejs || ls /usr/lib/x86_64-linux-gnu/libnode* /usr/local/bin/node 2>/dev/null; true']);
    expect(r.stdout.trim()).toBe('');
    // The chroot is a real one: the host's own node is not at its path there.
    expect(inChroot(['sh', '-c', `test -e ${process.execPath} && echo present`]).stdout).toBe('');
  });

  it('reads through the bpf source with the object it carries (libbpf.so.1 from the host\'s iproute2), opened from inside it, and leaves no file', () => {
    const { exe } = prepare();
    const r = inChroot([exe, String(jvm.pid), '-f', 'json', '-q', '--source', 'bpf']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got.sources).toEqual([{ name: 'bpf', used: true }]);
    expect(stable(got)).toEqual(stable(JSON.parse(runCli([String(jvm.pid), '-f', 'json', '-q', '--source', 'bpf']).stdout)));
    expect(readdirSync(outside('/tmp')).filter((f) => f.startsWith('knetstat-java-'))).toEqual([]);
  });

  it('--version prints what node dist/cli/main.js --version prints', () => {
    const { exe } = prepare();
    const r = inChroot([exe, '--version']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(runCli(['--version']).stdout);
  });

  it('reports a JVM of the host as dist/ does (every socket, option and Java call)', () => {
    const { exe } = prepare();
    const r = inChroot([exe, String(jvm.pid), '-f', 'json', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    const want = JSON.parse(runCli([String(jvm.pid), '-f', 'json', '-q']).stdout);
    expect(got.sockets.length).toBe(Object.keys(jvm.ready.sockets).length);
    expect(stable(got)).toEqual(stable(want));
    // The text report too (its header says when it was captured).
    const text = inChroot([exe, String(jvm.pid), '-q']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`pid ${jvm.pid} (java)`);
    expect(text.stdout).toContain('setSoLinger(true, 0)');
  });

  it('checks the JVM against a policy: the same verdicts and exit code as dist/, valid JUnit', () => {
    const { exe, paths } = prepare({ 'policy.json': POLICY });
    const r = inChroot([exe, 'check', String(jvm.pid), '--policy', paths['policy.json']!, '-f', 'junit', '-o', '/srv/knetstat/check.xml', '-q']);
    const want = runCli(['check', String(jvm.pid), '--policy', POLICY, '-f', 'json', '-q']);
    expect(r.code, r.stderr).toBe(want.code);
    expect(r.code).toBe(1); // rst's SO_LINGER 0 breaks "no RST on close"
    expect(xmllint(outside('/srv/knetstat/check.xml')).code, `schema ${XSD}`).toBe(0);
    const json = inChroot([exe, 'check', String(jvm.pid), '--policy', paths['policy.json']!, '-f', 'json', '-q']);
    expect(stable(JSON.parse(json.stdout.replaceAll(paths['policy.json']!, POLICY)))).toEqual(stable(JSON.parse(want.stdout)));
  });

  it('writes a snapshot that it and dist/ render identically, in every format, and checks it as dist/ does', () => {
    const { exe, paths } = prepare({ 'policy.json': POLICY });
    const s = inChroot([exe, 'snapshot', String(jvm.pid), '-o', '/srv/knetstat/snap.json', '-q']);
    expect(s.code, s.stderr).toBe(0);
    const snap = outside('/srv/knetstat/snap.json');
    expect(JSON.parse(readFileSync(snap, 'utf8')).capture.process.pid).toBe(jvm.pid);
    for (const f of FORMATS) {
      const got = inChroot([exe, 'render', '/srv/knetstat/snap.json', '-f', f]);
      const want = runCli(['render', snap, '-f', f]);
      expect(got.code, `${f}: ${got.stderr}`).toBe(want.code);
      expect(got.stdout, `render -f ${f}`).toBe(want.stdout);
    }
    const inside = '/srv/knetstat/snap.json';
    const got = inChroot([exe, 'check', '--snapshot', inside, '--policy', paths['policy.json']!, '-f', 'json']);
    const want = runCli(['check', '--snapshot', snap, '--policy', POLICY, '-f', 'json']);
    expect(got.code).toBe(want.code);
    // The policy's and snapshot's file names are part of the result: the same files, two paths.
    expect(got.stdout.replaceAll(inside, snap).replaceAll(paths['policy.json']!, POLICY)).toBe(want.stdout);
  });

  it('--probe-jdk runs the classes it carries, as the target\'s user, and reports as dist/ does (a root JVM and an ordinary user\'s)', async () => {
    const { exe } = prepare();
    const theirs = await startJvm('SocketLab', ['s:server', 'u:udp'], { wrapper: AS_HOSTILE, jvmArgs: ['-XX:-UsePerfData'] });
    try {
      for (const target of [jvm, theirs]) {
        const r = inChroot([exe, String(target.pid), '-f', 'json', '--probe-jdk']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toBe('');
        const got = JSON.parse(r.stdout);
        expect(got.defaults.note).toMatch(/measured from the target's own JDK: live probe of \/usr\/lib\/jvm\//);
        const want = JSON.parse(runCli([String(target.pid), '-f', 'json', '--probe-jdk']).stdout);
        // The note ends with when the probe ran.
        for (const j of [got, want]) j.defaults.note = j.defaults.note.replace(/ at \S+$/, '');
        expect(stable(got)).toEqual(stable(want));
      }
    } finally {
      await theirs.stop();
    }
  });

  it('--observe runs its helper from itself (no Node here to run it with), as the JVM\'s user: a root JVM and an ordinary user\'s', async () => {
    const { exe } = prepare();
    const theirs = await startLab(JDKS[0]!, 'TimeoutLab', ['groups=1', 'perGroup=1', 'periodic=100'], { iso: { uid: TEST_UID } });
    try {
      for (const target of [jvm, theirs]) {
        const r = inChroot([exe, String(target.pid), '-f', 'json', '-q', '--observe', '1s']);
        expect(r.code, r.stderr).toBe(0);
        const got = JSON.parse(r.stdout);
        expect(got.notObserved).toBeUndefined();
        expect(got.observation).toMatchObject({ source: 'jfr', recorded: { events: ['jdk.SocketRead', 'jdk.SocketWrite'] } });
      }
      // What the ordinary user's JVM read, with the timeout it set, as dist/ sees it.
      const got = JSON.parse(inChroot([exe, String(theirs.pid), '-f', 'json', '-q', '--observe', '1s']).stdout);
      const t = (theirs.ready.sockets as { role: string; localPort: number; remotePort: number; soTimeout: number }[]).find((x) => x.role === 'accepted')!;
      const s = got.sockets.find((x: { local: { port: number }; remote: { port: number } }) => x.local.port === t.localPort && x.remote.port === t.remotePort);
      expect(s.observed).toMatchObject({ attribution: 'socket', soTimeout: [t.soTimeout] });
    } finally {
      await theirs.stop();
    }
  });

  it('says in one line why it cannot run when no base for its private directory is usable', () => {
    const { exe } = prepare();
    // Every candidate (TMPDIR, /tmp, /var/tmp, /dev/shm) on a noexec mount, in the chroot's own mount namespace.
    const r = inChroot(['sh', '-c', `mount -t tmpfs -o noexec tmpfs /tmp && mount -t tmpfs -o noexec tmpfs /var/tmp && mkdir -p /dev/shm && mount -t tmpfs -o noexec tmpfs /dev/shm && exec ${exe} $$ --any -q`]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^knetstat-java: no private place to unpack the native module \(.*\/tmp is mounted noexec.*\(set TMPDIR/);
  });
});

describe.skipIf(noExe)(`dist/knetstat-java: its main script${noExe ? ` (skipped: ${noExe})` : ''}`, () => {
  const SEA_BUNDLE = join(ROOT, 'dist', 'sea', 'main.cjs');

  it('runs the bundle it carries with the code cache the build made, which this Node (the executable\'s) accepts', () => {
    const launch = readFileSync(join(ROOT, 'dist', 'sea', 'launch.cjs'), 'utf8');
    const head = JSON.parse(/new Script\((".*?") \+ getAsset/.exec(launch)![1]!);
    const tail = JSON.parse(/getAsset\('knetstat-java\.cjs', 'utf8'\) \+ (".*?"),/.exec(launch)![1]!);
    const probe = `const vm = require('node:vm'), fs = require('node:fs');
      const s = new vm.Script(${JSON.stringify(head)} + fs.readFileSync(${JSON.stringify(SEA_BUNDLE)}, 'utf8') + ${JSON.stringify(tail)}, { filename: '/x', cachedData: fs.readFileSync(${JSON.stringify(`${SEA_BUNDLE}.cache`)}) });
      console.log(s.cachedDataRejected);`;
    expect(run([process.execPath, '-e', probe]).stdout.trim()).toBe('false');
    // The assets it names are the ones built in: the same text and cache as dist/sea/.
    const config = JSON.parse(readFileSync(join(ROOT, 'dist', 'sea', 'sea-config.json'), 'utf8'));
    expect(config).toMatchObject({ main: join(ROOT, 'dist', 'sea', 'launch.cjs'), assets: { 'knetstat-java.cjs': SEA_BUNDLE, 'knetstat-java.cjs.cache': `${SEA_BUNDLE}.cache` } });
  });

  it('answers --version and --help itself, and leaves them to the CLI when that write fails (a closed pipe: exit 0, quietly)', () => {
    for (const a of [['--version'], ['--help'], ['snapshot', '-h']]) {
      const { rc, epipe } = closedPipe([EXE, ...a], runCli(a).stdout);
      expect(rc, a.join(' ')).toBe(0);
      expect(epipe, a.join(' ')).toHaveLength(2); // the main script's, then the CLI's
    }
  });

  it('says the same --version, -V, --help and -h as dist/, and what dist/ says of a bad option; on a terminal, help at its width', () => {
    for (const a of [['--version'], ['-V'], ['--help'], ['-h'], ['check', '--help'], ['render', '-h'], ['--no-such-option']]) {
      const e = run([EXE, ...a]), d = runCli(a);
      expect({ code: e.code, stdout: e.stdout, stderr: e.stderr }, a.join(' ')).toEqual({ code: d.code, stdout: d.stdout, stderr: d.stderr });
    }
    const wide = onTty([EXE, 'check', '--help'], 120);
    expect(wide).toBe(onTty([process.execPath, CLI, 'check', '--help'], 120));
    expect(wide).not.toBe(runCli(['check', '--help']).stdout);
  });
});

describe.skipIf(noExe)(`dist/knetstat-java: what the environment cannot do${noExe ? ` (skipped: ${noExe})` : ''}`, () => {
  let work: string;
  beforeAll(() => { work = mkdtempSync(join(tmpdir(), 'exe-env-')); });
  afterAll(() => { rmSync(work, { recursive: true, force: true }); });

  it('keeps none of the blanked names as a C string (NODE_OPTIONS, OPENSSL_CONF, ...), while node has each', () => {
    const exe = readFileSync(EXE);
    const node = readFileSync(process.execPath);
    for (const name of BLANKED as string[]) {
      expect(cStringLiterals(node, name), `${name} in node`).toHaveLength(1);
      expect(cStringLiterals(exe, name), `${name} in the executable`).toHaveLength(0);
    }
  });

  it('ignores NODE_OPTIONS (--require would run a file before the tool)', () => {
    const marker = join(work, 'required');
    writeFileSync(join(work, 'evil.cjs'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`);
    const env = { ...process.env, NODE_OPTIONS: `--require ${join(work, 'evil.cjs')}` };
    expect(run([process.execPath, '-e', '0'], env).code).toBe(0);
    expect(existsSync(marker), 'control: node runs it').toBe(true);
    rmSync(marker);
    const r = run([EXE, '--version'], env);
    expect(r.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    // --inspect-brk would stop before the first line, waiting for a debugger.
    expect(run([EXE, '--version'], { ...process.env, NODE_OPTIONS: '--inspect-brk=127.0.0.1:0' }).stdout.trim()).toBe(r.stdout.trim());
  });

  it('ignores OPENSSL_CONF (a provider there is a shared object OpenSSL loads at start-up)', () => {
    const marker = join(work, 'provider-loaded');
    writeFileSync(join(work, 'prov.c'), `#include <stdio.h>\n__attribute__((constructor)) static void hit(void) { FILE *f = fopen("${marker}", "w"); if (f) fclose(f); }\n`);
    const cc = run(['gcc', '-shared', '-fPIC', '-o', join(work, 'prov.so'), join(work, 'prov.c')]);
    expect(cc.code, cc.stderr).toBe(0);
    writeFileSync(join(work, 'openssl.cnf'), ['nodejs_conf = init', 'openssl_conf = init', '[init]', 'providers = provs', '[provs]', 'evil = evil_sect', '[evil_sect]', `module = ${join(work, 'prov.so')}`, 'activate = 1', ''].join('\n'));
    const env = { ...process.env, OPENSSL_CONF: join(work, 'openssl.cnf') };
    run([process.execPath, '-e', '0'], env); // node aborts after loading it: the constructor has run by then
    expect(existsSync(marker), 'control: node loads it').toBe(true);
    rmSync(marker);
    const r = run([EXE, '--version'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it('ignores NODE_ICU_DATA (data files ICU would take as its own)', () => {
    const dir = join(work, 'icu');
    mkdirSync(dir, { recursive: true });
    const env = { ...process.env, NODE_ICU_DATA: dir };
    const looked = (cmd: string[]) => run(['strace', '-f', '-e', 'trace=open,openat,stat,newfstatat,access', ...cmd], env).stderr.includes(dir);
    expect(looked([process.execPath, '-e', 'new Intl.Segmenter()']), 'control: node looks there').toBe(true);
    expect(looked([EXE, '--version'])).toBe(false);
  });

  it('ignores NODE_EXTRA_CA_CERTS (Node would build its certificate store with that file at every start; the tool speaks no TLS)', () => {
    const certs = join(work, 'extra-ca.pem');
    writeFileSync(certs, '');
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: certs };
    const looked = (cmd: string[]) => run(['strace', '-f', '-e', 'trace=open,openat', ...cmd], env).stderr.includes(certs);
    expect(looked([process.execPath, '-e', '0']), 'control: node reads it').toBe(true);
    expect(looked([EXE, '--version'])).toBe(false);
    expect(looked([EXE, 'render', SNAPSHOTS[0]!, '-f', 'json'])).toBe(false);
  });

  it('never reaches NODE_REPL_EXTERNAL_MODULE (a module node runs instead of its REPL on a terminal): a SEA runs its main script', () => {
    const marker = join(work, 'repl-module');
    writeFileSync(join(work, 'repl.cjs'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`);
    const env = { ...process.env, NODE_REPL_EXTERNAL_MODULE: join(work, 'repl.cjs') };
    run(['script', '-qec', process.execPath, '/dev/null'], env, '');
    expect(existsSync(marker), 'control: node runs it on a terminal').toBe(true);
    rmSync(marker);
    run(['script', '-qec', `${EXE} --version`, '/dev/null'], env, '');
    expect(existsSync(marker)).toBe(false);
  });
});

describe.skipIf(noExe)(`dist/knetstat-java: koffi.node on disk${noExe ? ` (skipped: ${noExe})` : ''}`, () => {
  let work: string;
  beforeAll(() => { work = mkdtempSync(join(tmpdir(), 'exe-unpack-')); });
  afterAll(() => { rmSync(work, { recursive: true, force: true }); });

  it('is written exclusively into a fresh 0700 directory under TMPDIR, checked, loaded, and gone after the run', () => {
    const r = run(['strace', '-f', '-e', 'trace=mkdir,openat,unlink,rmdir,fchmod', ...nativeCall([EXE])], { ...process.env, TMPDIR: work });
    expect(r.code).toBe(0);
    const dir = new RegExp(`mkdir\\("(${work}/knetstat-java-\\w{6})", 0700\\) = 0`).exec(r.stderr)?.[1];
    expect(dir, r.stderr).toBeDefined();
    expect(r.stderr).toContain(`openat(AT_FDCWD, "${dir}/koffi.node", O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600)`);
    expect(r.stderr).toContain(`unlink("${dir}/koffi.node") = 0`);
    expect(r.stderr).toContain(`rmdir("${dir}") = 0`);
    expect(readdirSync(work)).toEqual([]);
  });

  it('is not unpacked at all by a command that makes no native call (--version, --help, render)', () => {
    for (const a of [['--version'], ['--help'], ['render', SNAPSHOTS[0]!, '-f', 'junit']]) {
      const r = run(['strace', '-f', '-e', 'trace=mkdir,openat', EXE, ...a], { ...process.env, TMPDIR: work });
      expect(r.code, a.join(' ')).toBe(0);
      expect(r.stderr).not.toContain('koffi.node');
      expect(r.stderr).not.toMatch(/mkdir\(".*knetstat-java-/);
    }
  });

  it.skipIf(process.getuid?.() !== 0)('never uses a TMPDIR another user could plant files in', () => {
    const theirs = join(work, 'theirs');
    mkdirSync(theirs);
    chownSync(theirs, 65534, 65534);
    const open = join(work, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    for (const t of [theirs, open]) {
      const r = run(nativeCall([EXE]), { ...process.env, TMPDIR: t });
      expect(r.code, r.stderr).toBe(0);
      expect(readdirSync(t)).toEqual([]);
    }
  });
});

describe.skipIf(noExe)(`dist/knetstat-java: the folder around it${noExe ? ` (skipped: ${noExe})` : ''}`, () => {
  let jvm: Jvm;
  let work: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'exe-around-'));
    jvm = await startJvm('SocketLab', ['a:server']);
  });
  afterAll(async () => { await jvm?.stop(); rmSync(work, { recursive: true, force: true }); });

  it('is no package root: a samples/ planted beside the folder it was copied into is never read (--probe-jdk compiles and runs that file)', () => {
    // As in /tmp/<dir>/knetstat-java, where anyone may create /tmp/samples.
    mkdirSync(join(work, 'x'));
    mkdirSync(join(work, 'samples', 'java'), { recursive: true });
    writeFileSync(join(work, 'samples', 'java', 'SocketLab.java'), 'public class SocketLab { public static void main(String[] a) { System.out.println("PLANTED"); } }\n');
    spawnSync('cp', [EXE, join(work, 'x', 'knetstat-java')]);
    const r = run(['strace', '-f', '-e', 'trace=open,openat,execve', join(work, 'x', 'knetstat-java'), String(jvm.pid), '--probe-jdk', '-q']);
    expect(r.stderr).not.toContain(join(work, 'samples'));
    expect(r.stdout).not.toContain('PLANTED');
    // The bundle copied alone likewise (as README says: knetstat-java.js with bundle-assets/ beside it).
    if (noBundle) return;
    spawnSync('cp', ['-r', BUNDLE, join(work, 'x', 'knetstat-java.js')]);
    spawnSync('cp', ['-r', join(ROOT, 'dist', 'bundle-assets'), join(work, 'x')]);
    const b = run(['strace', '-f', '-e', 'trace=open,openat,execve', process.execPath, join(work, 'x', 'knetstat-java.js'), String(jvm.pid), '--probe-jdk', '-q']);
    expect(b.stderr).not.toContain(join(work, 'samples'));
    expect(b.stdout).not.toContain('PLANTED');
    // And --probe-jdk works from both, with the classes they carry.
    for (const cmd of [[join(work, 'x', 'knetstat-java')], [process.execPath, join(work, 'x', 'knetstat-java.js')]]) {
      const j = run([...cmd, String(jvm.pid), '--probe-jdk', '-f', 'json']);
      expect(j.code, j.stderr).toBe(0);
      expect(JSON.parse(j.stdout).defaults.note).toMatch(/measured from the target's own JDK/);
    }
  });
});
