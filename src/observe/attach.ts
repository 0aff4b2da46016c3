// Attaching to a HotSpot JVM as the JDK's own Linux attach code does
// (sun.tools.attach.VirtualMachineImpl, HotSpot's attachListener_posix.cpp),
// from Node and without any binary of the target's JDK:
//  1. the JVM's pid as it sees itself (the last NSpid entry) names its files;
//  2. its attach socket is /tmp/.java_pid<nspid> in ITS /tmp, reached through
//     /proc/<pid>/root/tmp (HotSpot hard-codes /tmp there, not java.io.tmpdir);
//  3. when the socket is absent: create .attach_pid<nspid> in its cwd (else
//     its /tmp), send SIGQUIT (only if it catches SIGQUIT: SigCgt, and does
//     not ignore it; a -Xrs JVM dies of SIGQUIT, but it starts its listener
//     at startup anyway), wait for the socket (10 s, SIGQUIT again at half
//     time, as the JDK), remove the trigger;
//  4. per command: connect, send a protocol 1 request, read the code and text.
// HotSpot accepts a peer whose euid and egid are the JVM's (or root's), and
// its socket file is 0600: every file step runs in helper.ts as the JVM's
// uid/gid. Only the signal is sent from here, through a pidfd.
// Before any signal: -XX:+DisableAttachMechanism (command line, environment,
// perf data) is refused, since SIGQUIT would then only print a thread dump
// into the application's output.
import { constants } from 'node:os';
import { ObserveError, TargetError } from '../errors.js';
import { hasExited, startTime } from '../linux/lifetime.js';
import { ProcessHandle } from '../linux/pidfd.js';
import { catchesSignal, cmdlineOrUndefined, environ, maps, status } from '../linux/proc.js';
import { AsUser, HelperRefusal } from './asuser.js';
import { attachDisabledByFlags, attachSupported, parsePerfData } from './hsperf.js';
import { encodeRequest, parseReply, type Reply } from './protocol.js';

export interface AttachOptions {
  /** How long the JVM may take to start its attach listener (the JDK's default: 10 s). */
  listenerTimeoutMs?: number;
  /** Default time one command may take. */
  requestTimeoutMs?: number;
  /** Aborted (the tool was interrupted): stop waiting for the listener. */
  signal?: AbortSignal;
}

export interface AttachTarget {
  pid: number;
  groups: number[];
  /** The pid in the JVM's own pid namespace. */
  nspid: number;
  uid: number;
  gid: number;
  /** Start time (clock ticks since boot): the process, not just a pid. */
  start: number;
}

/** How the session reached the listener: it was running, or the SIGQUIT handshake started it. */
export type AttachHow = 'listener-running' | 'started';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const SIGQUIT = constants.signals.SIGQUIT;

/** The same process as when its start time was read: not exited, not exiting, the pid not reused. */
function sameProcess(pid: number, start: number): boolean {
  return !hasExited(pid, start);
}

/** Its environment, {} when unreadable (the perf data may still tell). */
function environOrEmpty(pid: number): Record<string, string> {
  try { return environ(pid); } catch { return {}; }
}

/** Which JVM the process runs, from the libraries it maps. */
export function parseVmKind(maps: string): 'hotspot' | 'openj9' | 'none' {
  if (/\/libj9vm[0-9]*\.so\b/.test(maps)) return 'openj9';
  return /\/libjvm\.so\b/.test(maps) ? 'hotspot' : 'none';
}

function vmKind(pid: number): 'hotspot' | 'openj9' | 'none' | 'unknown' {
  try {
    const m = maps(pid);
    return m === undefined ? 'unknown' : parseVmKind(m);
  } catch {
    return 'unknown';
  }
}

export class AttachSession {
  private closed = false;

  private constructor(
    readonly target: AttachTarget,
    readonly how: AttachHow,
    /** The helper doing the file work as the JVM's user. */
    readonly files: AsUser,
    private readonly handle: ProcessHandle,
    private readonly requestTimeoutMs: number,
  ) {}

  /** Attaches to pid; throws ObserveError (or TargetError when there is no such process). */
  static async open(pid: number, opts: AttachOptions = {}): Promise<AttachSession> {
    const st = status(pid);
    if (st.state === 'Z' || st.state === 'X') throw new TargetError(`process ${pid} has exited (zombie)`);
    const start = startTime(pid);
    if (start === undefined) throw new TargetError(`no such process: ${pid}`, { errno: 'ESRCH' });
    const target: AttachTarget = {
      pid,
      nspid: st.nspid.at(-1) ?? pid,
      uid: st.uids[1] ?? st.uids[0] ?? -1,
      gid: st.gids[1] ?? st.gids[0] ?? -1,
      groups: st.groups,
      start,
    };
    if (target.uid < 0 || target.gid < 0) throw new ObserveError(`cannot read the credentials of process ${pid}`, { kind: 'no-access' });
    const handle = ProcessHandle.open(pid, start);
    if (!handle) throw new ObserveError(`process ${pid} exited`, { kind: 'exited' });
    let files: AsUser | undefined;
    try {
      files = await AsUser.start({ pid, nspid: target.nspid, uid: target.uid, gid: target.gid, groups: target.groups });
      const how = await AttachSession.reachListener(target, files, handle, opts.listenerTimeoutMs ?? 10_000, opts.signal);
      return new AttachSession(target, how, files, handle, opts.requestTimeoutMs ?? 10_000);
    } catch (e) {
      files?.close();
      handle.close();
      throw translate(e, target);
    }
  }

  private static async reachListener(t: AttachTarget, files: AsUser, handle: ProcessHandle, timeoutMs: number, signal?: AbortSignal): Promise<AttachHow> {
    const probe = async () => String((await files.call('probe')).socket);
    const first = await probe();
    if (first === 'ready') return 'listener-running';
    if (first === 'bogus') throw new ObserveError(`/tmp/.java_pid${t.nspid} of process ${t.pid} is not its attach socket (wrong owner, type or mode): not connecting`, { kind: 'bogus-socket' });
    // Refuse before any signal when attach is disabled.
    const perf = String((await files.call('perfData')).perf ?? '');
    const supported = attachSupported(parsePerfData(Buffer.from(perf, 'base64')));
    const byFlags = attachDisabledByFlags(cmdlineOrUndefined(t.pid) ?? [], environOrEmpty(t.pid));
    if (supported === false || (supported === undefined && byFlags === true)) {
      throw new ObserveError(`process ${t.pid} runs with -XX:+DisableAttachMechanism: it cannot be observed`, { kind: 'attach-disabled', remedy: 'restart it without -XX:+DisableAttachMechanism, or start the recording in the JVM itself (-XX:StartFlightRecording)' });
    }
    // SIGQUIT is HotSpot's attach handshake; to another JVM (OpenJ9 writes a javacore) or a non-JVM it means something else.
    const vm = vmKind(t.pid);
    if (vm !== 'hotspot') {
      throw new ObserveError(`process ${t.pid} is ${vm === 'openj9' ? 'an OpenJ9 JVM' : vm === 'none' ? 'not a JVM (no libjvm.so mapped)' : 'of unknown kind (its memory map is unreadable)'}: only HotSpot's attach protocol is spoken; not signalled`, { kind: 'not-hotspot' });
    }
    const catches = () => catchesSignal(status(t.pid), SIGQUIT);
    if (!catches()) {
      throw new ObserveError(
        `process ${t.pid} has no attach listener and does not handle SIGQUIT (-Xrs, or not a HotSpot JVM): not signalled, since SIGQUIT would end it`,
        { kind: 'no-sigquit', remedy: 'a -Xrs JVM starts its listener at startup: its /tmp/.java_pid file was removed (a tmp cleaner?); restart it to observe it' },
      );
    }
    await files.call('createTrigger');
    try {
      if (!handle.signal(SIGQUIT)) throw new ObserveError(`process ${t.pid} exited`, { kind: 'exited' });
      let spent = 0, delay = 0, resent = false;
      while (spent <= timeoutMs) {
        delay += 100;
        await sleep(delay);
        spent += delay;
        if (!sameProcess(t.pid, t.start)) throw new ObserveError(`process ${t.pid} exited`, { kind: 'exited' });
        if (signal?.aborted) throw new ObserveError('observation interrupted', { kind: 'interrupted' });
        const s = await probe();
        if (s === 'ready') return 'started';
        if (s === 'bogus') throw new ObserveError(`/tmp/.java_pid${t.nspid} of process ${t.pid} is not its attach socket: not connecting`, { kind: 'bogus-socket' });
        if (!resent && spent > timeoutMs / 2 && catches()) {
          resent = true;
          handle.signal(SIGQUIT);
        }
      }
      throw new ObserveError(
        `process ${t.pid} did not start its attach listener within ${Math.round(timeoutMs / 1000)} s`,
        { kind: 'timeout', remedy: 'the JVM may be stalled (a long GC or safepoint), or not a HotSpot JVM' },
      );
    } finally {
      await files.call('removeTrigger').catch(() => undefined);
    }
  }

  /** One attach operation (jcmd, properties, ...), protocol version 1. */
  async execute(op: string, args: string[] = [], timeoutMs = this.requestTimeoutMs, maxBytes = 4 << 20): Promise<Reply> {
    if (this.closed) throw new Error('attach session closed (a bug: used after close())');
    try {
      const a = await this.files.call('request', { request: encodeRequest(op, args).toString('base64'), timeoutMs, maxBytes }, timeoutMs + 5_000);
      const raw = Buffer.from(String(a.reply ?? ''), 'base64');
      if (raw.length === 0) {
        if (!sameProcess(this.target.pid, this.target.start)) throw new ObserveError(`process ${this.target.pid} exited`, { kind: 'exited' });
        throw new ObserveError(`process ${this.target.pid} closed the attach connection without an answer to ${op}`, { kind: 'jfr' });
      }
      return parseReply(raw);
    } catch (e) {
      throw translate(e, this.target);
    }
  }

  /** A diagnostic command line, as `jcmd <pid> <line>` would send it. */
  jcmd(line: string, timeoutMs?: number): Promise<Reply> {
    return this.execute('jcmd', [line], timeoutMs);
  }

  alive(): boolean {
    return sameProcess(this.target.pid, this.target.start);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.files.close();
    this.handle.close();
  }
}

/** Helper refusals and helper failures as ObserveErrors that say what happened to the target. */
export function translate(e: unknown, t: AttachTarget): unknown {
  if (e instanceof ObserveError || e instanceof TargetError) {
    if (e instanceof ObserveError && (e.kind === 'helper' || e.kind === 'timeout') && !sameProcess(t.pid, t.start)) {
      return new ObserveError(`process ${t.pid} exited`, { kind: 'exited', cause: e });
    }
    return e;
  }
  if (!(e instanceof HelperRefusal)) return e;
  if (!sameProcess(t.pid, t.start) || e.code === 'exited') return new ObserveError(`process ${t.pid} exited`, { kind: 'exited', cause: e });
  switch (e.code) {
    case 'timeout': return new ObserveError(`process ${t.pid} did not answer in time (${e.message})`, { kind: 'timeout', cause: e });
    case 'too-big': return new ObserveError(e.message, { kind: 'too-big', cause: e });
    case 'credentials': case 'no-access': case 'EACCES': case 'EPERM':
      return new ObserveError(`as the JVM's user (uid ${t.uid}): ${e.message}`, { kind: 'no-access', cause: e });
    case 'bogus': return new ObserveError(e.message, { kind: 'bogus-socket', cause: e });
    default: return new ObserveError(`observing process ${t.pid}: ${e.message}`, { kind: 'jfr', cause: e });
  }
}
