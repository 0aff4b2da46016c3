// What attaching to a JVM needs from /proc/<pid> (proc(5)): its pid in its
// own pid namespace (NSpid), its effective uid/gid (HotSpot's attach listener
// accepts only a peer with both, or root), whether it catches or ignores
// SIGQUIT (SigCgt/SigIgn), its start time (a pid can be reused: the start
// time tells the process apart), and fdinfo flags (O_NONBLOCK).
// (To be folded into src/linux/proc.ts by the refactor.)
import { readFileSync } from 'node:fs';
import { TargetError, fsCode } from '../errors.js';

export const SIGQUIT = 3;
/** O_NONBLOCK in open(2) flags as fdinfo prints them (octal 04000 on x86, arm, riscv). */
export const O_NONBLOCK = 0o4000;

export interface AttachStatus {
  /** The pid in each pid namespace, outermost first; the last is what the process itself sees. */
  nspid: number[];
  /** Real, effective, saved, filesystem. */
  uids: number[];
  gids: number[];
  /** Supplementary groups. */
  groups: number[];
  sigCgt: bigint;
  sigIgn: bigint;
  sigBlk: bigint;
  state?: string;
}

function mask(text: string, key: string): bigint {
  const v = new RegExp(`^${key}:\\s*([0-9a-fA-F]{1,32})\\s*$`, 'm').exec(text)?.[1];
  return v ? BigInt(`0x${v}`) : 0n;
}

export function parseAttachStatus(text: string): AttachStatus {
  const field = (k: string) => new RegExp(`^${k}:[ \\t]*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const nums = (v: string | undefined) => (v ?? '').split(/\s+/).filter((x) => /^\d+$/.test(x)).map(Number);
  return {
    nspid: nums(field('NSpid')),
    uids: nums(field('Uid')),
    gids: nums(field('Gid')),
    groups: nums(field('Groups')),
    sigCgt: mask(text, 'SigCgt'),
    sigIgn: mask(text, 'SigIgn'),
    sigBlk: mask(text, 'SigBlk'),
    ...(field('State') ? { state: field('State')!.charAt(0) } : {}),
  };
}

/**
 * The process catches sig and does not ignore it: the only case where sending
 * it is harmless (a JVM without a SIGQUIT handler, -Xrs, dumps core and dies).
 * As the JDK's own VirtualMachineImpl.checkCatchesAndSendQuitTo decides; a
 * blocked signal is not a reason to refuse (it may be blocked briefly).
 */
export function catchesSignal(s: AttachStatus, sig: number): boolean {
  const bit = 1n << BigInt(sig - 1);
  return (s.sigCgt & bit) !== 0n && (s.sigIgn & bit) === 0n;
}

function read(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch (err) {
    const code = fsCode(err);
    if (code === 'ENOENT' || code === 'ESRCH') throw new TargetError(`no such process: ${pid}`, { errno: code, cause: err });
    throw err;
  }
}

export function attachStatus(pid: number): AttachStatus {
  return parseAttachStatus(read(pid, 'status'));
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; with the pid, it names one process. */
export function parseStartTime(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const v = Number(rest[19]);
  if (!Number.isSafeInteger(v)) throw new TargetError('unreadable /proc/<pid>/stat');
  return v;
}

export function startTime(pid: number): number {
  return parseStartTime(read(pid, 'stat'));
}

/** The same process as when startTime was read (not exited, pid not reused). */
export function sameProcess(pid: number, start: number): boolean {
  try {
    return startTime(pid) === start;
  } catch {
    return false;
  }
}

/** The open(2) flags of an fd from /proc/<pid>/fdinfo/<fd> ("flags:" in octal); undefined when unreadable. */
export function parseFdinfoFlags(text: string): number | undefined {
  const v = /^flags:\s*([0-7]+)\s*$/m.exec(text)?.[1];
  return v === undefined ? undefined : parseInt(v, 8);
}

export function fdFlags(pid: number, fd: number): number | undefined {
  try {
    return parseFdinfoFlags(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1'));
  } catch {
    return undefined;
  }
}
