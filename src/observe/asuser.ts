// The parent side of helper.ts: starts it with the target's uid/gid and
// talks to it. Everything the helper says is treated as untrusted input
// (the target's user can ptrace a process of its own uid): answers are size
// capped and checked; a helper that does not answer in time is killed.
//
// Credentials through src/linux/privdrop.ts ('observe-helper': the JVM's
// effective uid/gid and groups, no capabilities unless the JVM is root's,
// no_new_privs, no parent-death signal; why, there), as for --probe-jdk. As
// the JVM's own user: no_new_privs only. Anyone else: refused (HotSpot would
// refuse the connection anyway). The child gets an empty environment, / as
// cwd, and its own process group (a terminal's Ctrl-C reaches the tool only,
// which then cleans up through the helper); when the tool dies the helper
// sees its stdin close, removes the trigger file if it made one, and exits.
import type { ChildProcess } from 'node:child_process';
import { readAssetText } from '../assets.js';
import { ObserveError } from '../errors.js';
import { builtin } from '../builtins.js';
import { runAsArgv } from '../linux/privdrop.js';
import { HELPER_COMMAND } from './helper.js';

export interface TargetCreds {
  pid: number;
  nspid: number;
  uid: number;
  gid: number;
  /** Supplementary groups (Groups: in /proc/<pid>/status). */
  groups: number[];
}

export interface HelperAnswer {
  [k: string]: unknown;
}

const MAX_LINE = 1 << 20;
const MAX_FRAME = 1 << 20;

/**
 * The helper's command line after the credential drop: Node with the compiled
 * helper's text (an asset: dist/observe/helper.js beside us, or carried inside
 * the bundle; from the TypeScript sources, the tests, the one in dist/, which
 * npm test builds first), or what the single executable's preamble
 * (bundle/sea.ts) set: itself in helper mode.
 */
function helperCommand(): string[] {
  const set = (globalThis as { [HELPER_COMMAND]?: string[] })[HELPER_COMMAND];
  if (set) return set;
  return [process.execPath, '--input-type=module', '--no-warnings', '-e', `${readAssetText('dist/observe/helper.js')}\nrunHelper();\n`];
}

export class AsUser {
  private child: ChildProcess;
  private nextId = 1;
  private buf: Buffer = Buffer.alloc(0);
  private waiting = new Map<number, { resolve: (a: HelperAnswer) => void; reject: (e: Error) => void; onData?: (d: Buffer) => void }>();
  /** Raw bytes still owed to a data frame of this request id. */
  private frame: { id: number; left: number } | undefined;
  private dead: Error | undefined;
  private constructor(readonly creds: TargetCreds) {
    const [cmd, ...pre] = runAsArgv(creds, 'observe-helper');
    this.child = builtin('node:child_process').spawn(cmd!, [...pre, ...helperCommand()], {
      cwd: '/', env: {}, detached: true, stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => this.onData(d));
    let err = '';
    this.child.stderr!.on('data', (d: Buffer) => { if (err.length < 4096) err += d.toString('utf8'); });
    this.child.on('error', (e) => this.fail(new ObserveError(`cannot start the helper as uid ${creds.uid}: ${e.message}`, { kind: 'helper' })));
    this.child.on('exit', (code, sig) => this.fail(new ObserveError(`the helper (uid ${creds.uid}) exited (${sig ?? code})${err ? `: ${err.split('\n').find((l) => l.trim()) ?? ''}` : ''}`, { kind: 'helper' })));
  }

  static async start(creds: TargetCreds): Promise<AsUser> {
    const h = new AsUser(creds);
    try {
      await h.call('hello', { pid: creds.pid, nspid: creds.nspid, uid: creds.uid, gid: creds.gid, groups: creds.groups }, 15_000);
    } catch (e) {
      h.close();
      throw e;
    }
    return h;
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length) {
      if (this.frame) {
        const n = Math.min(this.frame.left, this.buf.length);
        const piece = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        this.frame.left -= n;
        const w = this.waiting.get(this.frame.id);
        if (this.frame.left === 0) this.frame = undefined;
        try {
          w?.onData?.(piece);
        } catch (e) {
          this.kill(e as Error);
          return;
        }
        continue;
      }
      const nl = this.buf.indexOf(10);
      if (nl < 0) {
        if (this.buf.length > MAX_LINE) this.kill(new ObserveError('the helper sent an oversized line', { kind: 'helper' }));
        return;
      }
      const line = this.buf.subarray(0, nl).toString('utf8');
      this.buf = this.buf.subarray(nl + 1);
      let msg: { id?: unknown; ok?: unknown; data?: unknown; code?: unknown; message?: unknown };
      try {
        msg = JSON.parse(line);
      } catch {
        this.kill(new ObserveError('the helper sent a malformed answer', { kind: 'helper' }));
        return;
      }
      const id = Number(msg.id);
      const w = this.waiting.get(id);
      if (typeof msg.data === 'number') {
        if (!Number.isSafeInteger(msg.data) || msg.data < 0 || msg.data > MAX_FRAME || !w?.onData) {
          this.kill(new ObserveError('the helper sent an unexpected data frame', { kind: 'helper' }));
          return;
        }
        this.frame = { id, left: msg.data };
        continue;
      }
      if (!w) continue;
      this.waiting.delete(id);
      if (msg.ok === true) w.resolve(msg as HelperAnswer);
      else w.reject(new HelperRefusal(String(msg.code ?? 'error'), String(msg.message ?? 'refused').slice(0, 500)));
    }
  }

  private kill(e: Error): void {
    this.fail(e);
    this.close();
  }

  /** One request; rejects with HelperRefusal (the helper said no) or ObserveError (no answer in time, helper gone). */
  call(op: string, args: Record<string, unknown> = {}, timeoutMs = 15_000, onData?: (d: Buffer) => void): Promise<HelperAnswer> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<HelperAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        const e = new ObserveError(`the helper did not answer '${op}' within ${Math.round(timeoutMs / 1000)} s`, { kind: 'timeout' });
        reject(e);
        this.kill(e);
      }, timeoutMs);
      const done = { resolve: (a: HelperAnswer) => { clearTimeout(timer); resolve(a); }, reject: (e: Error) => { clearTimeout(timer); reject(e); } };
      this.waiting.set(id, { ...done, ...(onData ? { onData: (d: Buffer) => { timer.refresh(); onData(d); } } : {}) });
      this.child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  close(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin?.end();
      const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
      t.unref();
      this.child.once('exit', () => clearTimeout(t));
    }
    this.child.stdout?.removeAllListeners('data');
    this.child.unref();
    (this.child.stdout as { unref?: () => void } | null)?.unref?.();
    (this.child.stderr as { unref?: () => void } | null)?.unref?.();
  }
}

/** The helper refused a request (its code says why: exited, no-access, bogus, absent, timeout ...). */
export class HelperRefusal extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'HelperRefusal';
  }
}
