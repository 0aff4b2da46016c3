// The hostile local user of test/security.test.ts: an ordinary uid with no
// passwd entry (nothing to create or remove), played with setpriv, owning the
// files it plants and the processes it starts; the tool runs as root.
//
// KNETSTAT_CLI=/path/to/other/dist/cli/main.js runs the same suite against
// another build (that is how each test was seen failing before its fix).
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './jvm.js';

export const HOSTILE_UID = 48311;
export const HOSTILE_GID = 48311;
/** Runs a command as the hostile user (with a PATH it can search: root's may start in /root). */
export const AS_HOSTILE = ['setpriv', `--reuid=${HOSTILE_UID}`, `--regid=${HOSTILE_GID}`, '--clear-groups', '/usr/bin/env', 'PATH=/usr/bin:/bin'];

export const TOOL = process.env.KNETSTAT_CLI ?? join(ROOT, 'dist', 'cli', 'main.js');

export interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** The tool, as root, the way an operator runs it (CI set: no spinner). */
export function tool(args: string[], opts: SpawnSyncOptions & { wrapper?: string[] } = {}): Run {
  const [cmd, ...pre] = opts.wrapper ? [...opts.wrapper, process.execPath] : [process.execPath];
  const r = spawnSync(cmd!, [...pre, TOOL, ...args], { encoding: 'utf8', timeout: 60_000, ...opts, env: { ...process.env, CI: 'true', ...(opts.env ?? {}) } });
  return { code: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** A fresh directory; `shared`: like /tmp (root's, 1777), where the hostile user may plant names; else the hostile user's own. */
export function scratch(tag: string, kind: 'shared' | 'hostile' | 'root' = 'hostile'): string {
  const dir = mkdtempSync(join('/tmp', `knj-security-a-${tag}-`));
  if (kind === 'shared') chmodSync(dir, 0o1777);
  if (kind === 'hostile') { chownSync(dir, HOSTILE_UID, HOSTILE_GID); chmodSync(dir, 0o755); }
  return dir;
}

export function removeAll(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** A file written by the hostile user (its owner), mode as given. */
export function plant(path: string, content: string | Buffer, mode = 0o644): void {
  writeFileSync(path, content, { mode });
  chownSync(path, HOSTILE_UID, HOSTILE_GID);
  chmodSync(path, mode);
}

export function plantDir(path: string): string {
  mkdirSync(path, { recursive: true });
  chownSync(path, HOSTILE_UID, HOSTILE_GID);
  return path;
}

/** Runs a command as the hostile user and waits for it. */
export function asHostile(cmd: string[], opts: SpawnSyncOptions = {}): Run {
  const r = spawnSync(AS_HOSTILE[0]!, [...AS_HOSTILE.slice(1), ...cmd], { encoding: 'utf8', timeout: 30_000, ...opts });
  return { code: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

export interface FakeJvm { pid: number; port: number; proc: ChildProcess; stop(): Promise<void> }

/**
 * A process of the hostile user that looks like a JVM to the tool: it maps
 * <home>/lib/server/libjvm.so (a file the user wrote: any bytes), listens on
 * loopback, names itself `comm` (prctl PR_SET_NAME), optionally makes itself
 * non-dumpable, and holds until stdin closes. Its command line is
 * python3 <script> <args...>.
 */
export async function fakeJvm(home: string, opts: { comm?: string; args?: string[]; dumpable?: boolean } = {}): Promise<FakeJvm> {
  const script = join(home, 'fake.py');
  plant(script, [
    'import ctypes, mmap, os, socket, sys',
    'libc = ctypes.CDLL(None, use_errno=True)',
    'f = open(os.path.join(sys.argv[1], "lib", "server", "libjvm.so"), "rb")',
    'm = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)',
    'name = bytes.fromhex(sys.argv[2])',
    'if name: libc.prctl(15, ctypes.c_char_p(name), 0, 0, 0)',
    'if sys.argv[3] == "0": libc.prctl(4, 0, 0, 0, 0)',
    's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)',
    'print("READY", os.getpid(), s.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n'));
  const args = [script, home, Buffer.from(opts.comm ?? '', 'utf8').toString('hex'), opts.dumpable === false ? '0' : '1', ...(opts.args ?? [])];
  const proc = spawn(AS_HOSTILE[0]!, [...AS_HOSTILE.slice(1), 'python3', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [pid, port] = await new Promise<[number, number]>((res, rej) => {
    const t = setTimeout(() => rej(new Error('fake JVM not READY in 20 s')), 20_000);
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      const m = /^READY (\d+) (\d+)$/.exec(l);
      if (m) { clearTimeout(t); res([Number(m[1]), Number(m[2])]); }
    });
    proc.on('exit', (c) => { clearTimeout(t); rej(new Error(`fake JVM exited ${c}`)); });
  });
  return {
    pid, port, proc,
    stop: () => new Promise<void>((res) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return res();
      proc.once('exit', () => res());
      proc.kill('SIGKILL');
    }),
  };
}

/** A java.home tree the hostile user owns: lib/server/libjvm.so (junk) and whatever else is given (path -> content). */
export function fakeJavaHome(home: string, files: Record<string, string> = {}): string {
  plantDir(home);
  plantDir(join(home, 'lib', 'server'));
  plantDir(join(home, 'bin'));
  plant(join(home, 'lib', 'server', 'libjvm.so'), Buffer.alloc(4096, 0x7f));
  for (const [rel, content] of Object.entries(files)) plant(join(home, rel), content, rel.startsWith('bin/') ? 0o755 : 0o644);
  return home;
}

/** Controls a terminal acts on, and the Unicode ones that reorder a line: none may reach stdout or stderr raw. */
export const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

export interface Ready { pid: number; ready: any; proc: ChildProcess; stop(): Promise<void> }

/** Starts a command whose program prints "READY <json>" (the samples do) and waits for that line. */
export async function spawnReady(cmd: string[]): Promise<Ready> {
  const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = await new Promise<any>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`${cmd.join(' ')}: not READY in 30 s`)), 30_000);
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      if (l.startsWith('READY ')) { clearTimeout(t); res(JSON.parse(l.slice(6))); }
    });
    proc.on('exit', (c) => { clearTimeout(t); rej(new Error(`${cmd.join(' ')} exited ${c} before READY`)); });
  });
  return {
    pid: ready.pid, ready, proc,
    stop: () => new Promise<void>((res) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return res();
      proc.once('exit', () => res());
      proc.kill('SIGKILL');
    }),
  };
}
