// Every read of /proc/<pid>/ (proc(5)) the tool makes: stat, status, cmdline,
// comm, environ, exe, maps, the fd directory and fdinfo (an fd's flags),
// namespace inodes; and user names from /etc/passwd, read once. A process that is gone is a
// TargetError ("no such process"); what a caller may do without (another
// user's maps, say) it asks for with the *OrUndefined forms. Text is UTF-8
// where it is valid (Linux keeps names and arguments as bytes, and UTF-8 is
// what users write), Latin-1 otherwise, so that no byte is lost; argv and
// environ are decoded one entry at a time (one Latin-1 argument does not
// spoil the rest).
import { closeSync, constants, openSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { TargetError, fsCode } from '../errors.js';
import { O_CLOEXEC, decodeText, readUpTo } from './files.js';

export type ProcPid = number | 'self' | 'thread-self';

/** A /proc file is generated, so its size says nothing: the first 16 MiB are kept (a command line is at most a few MiB, a JVM's maps some hundred KiB). */
const PROC_MAX_BYTES = 16 << 20;

/** Any /proc file by path (/proc/cgroups, /proc/<pid>/stat), at most PROC_MAX_BYTES; errors are the fs error itself (ENOENT, EACCES, ESRCH). */
export function readProcPath(path: string): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | O_CLOEXEC);
  try {
    return readUpTo(fd, PROC_MAX_BYTES).bytes;
  } finally {
    closeSync(fd);
  }
}

/** The bytes of /proc/<pid>/<file>. Gone: TargetError; other errors (not permitted) as they are. */
export function readProcBytes(pid: ProcPid, file: string): Buffer {
  try {
    return readProcPath(`/proc/${pid}/${file}`);
  } catch (err) {
    const code = fsCode(err);
    if (code === 'ENOENT' || code === 'ESRCH') {
      throw new TargetError(`no such process: ${pid}`, { errno: code, remedy: 'check the pid with jps or knetstat-java list', cause: err });
    }
    throw err;
  }
}

/** A /proc/<pid>/<file> as text (UTF-8 where valid, else Latin-1). */
export function readProcFile(pid: ProcPid, file: string): string {
  return decodeText(readProcBytes(pid, file));
}

/** The same, undefined when it cannot be read for any reason (gone, not permitted). */
export function readProcFileOrUndefined(pid: ProcPid, file: string): string | undefined {
  try { return readProcFile(pid, file); } catch { return undefined; }
}

/** Every numeric entry of /proc, ascending. */
export function allPids(): number[] {
  return readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n)).map(Number).sort((a, b) => a - b);
}

/** The state letter of /proc/<pid>/stat (R, S, D, Z, X ...), after the parenthesised comm, which may hold spaces and parentheses. */
export function parseStatState(stat: string): string {
  const close = stat.lastIndexOf(')');
  return stat.slice(close + 2, close + 3);
}

export function processState(pid: number): string {
  return parseStatState(readProcFile(pid, 'stat'));
}

export interface ProcStat {
  /** The state letter. */
  state: string;
  /** task->flags (PF_EXITING ...). */
  flags: number;
  /** Clock ticks after boot when the process started: with the pid, it names one process (a reused pid has another). */
  startTime: number;
}

/** /proc/<pid>/stat: state (field 3), flags (9), starttime (22); undefined for a text that is not one. */
export function parseStat(stat: string): ProcStat | undefined {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const flags = Number(f[6]);
  const startTime = Number(f[19]);
  if (!f[0] || !Number.isSafeInteger(flags) || !Number.isSafeInteger(startTime)) return undefined;
  return { state: f[0], flags, startTime };
}

/** pid's stat; undefined when it is gone (or not a stat). */
export function statOrUndefined(pid: number): ProcStat | undefined {
  const text = readProcFileOrUndefined(pid, 'stat');
  return text === undefined ? undefined : parseStat(text);
}

export interface ProcStatus {
  /** The State: letter. */
  state?: string;
  ppid?: number;
  /** Real, effective, saved and filesystem uid. */
  uids: number[];
  /** Real, effective, saved and filesystem gid. */
  gids: number[];
  /** Supplementary groups. */
  groups: number[];
  /** The pid in each pid namespace, outermost first (NSpid:, Linux >= 4.1). */
  nspid: number[];
  /** Signals the process catches (SigCgt:), as a bit mask: bit n-1 for signal n. */
  sigCgt?: bigint;
  /** Signals it ignores (SigIgn:), the same way. */
  sigIgn?: bigint;
  /** The file mode creation mask (Umask:, Linux >= 4.7). */
  umask?: number;
  /** Effective capabilities (CapEff:), as a bit mask: bit n for capability n (linux/capability.h). */
  capEff?: bigint;
}

/** /proc/<pid>/status, the fields the tool uses. */
export function parseStatus(text: string): ProcStatus {
  // [ \t]*, not \s*: an empty field (Groups: of a process with none) must not take the next line's value.
  const field = (k: string) => new RegExp(`^${k}:[ \\t]*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const nums = (v: string | undefined) => (v ?? '').split(/\s+/).filter((x) => /^\d+$/.test(x)).map(Number);
  const ppid = field('PPid');
  const sig = field('SigCgt');
  const ign = field('SigIgn');
  const umask = field('Umask');
  const capEff = field('CapEff');
  return {
    state: field('State')?.[0],
    ...(ppid !== undefined && /^\d+$/.test(ppid) ? { ppid: Number(ppid) } : {}),
    uids: nums(field('Uid')),
    gids: nums(field('Gid')),
    groups: nums(field('Groups')),
    nspid: nums(field('NSpid')),
    ...(sig !== undefined && /^[0-9a-f]+$/i.test(sig) ? { sigCgt: BigInt(`0x${sig}`) } : {}),
    ...(ign !== undefined && /^[0-9a-f]+$/i.test(ign) ? { sigIgn: BigInt(`0x${ign}`) } : {}),
    ...(umask !== undefined && /^[0-7]+$/.test(umask) ? { umask: parseInt(umask, 8) } : {}),
    ...(capEff !== undefined && /^[0-9a-f]+$/i.test(capEff) ? { capEff: BigInt(`0x${capEff}`) } : {}),
  };
}

export function status(pid: ProcPid): ProcStatus {
  return parseStatus(readProcFile(pid, 'status'));
}

/**
 * The process catches sig and does not ignore it: the only case where sending
 * it is harmless (a JVM without a SIGQUIT handler, -Xrs, dumps core and dies).
 * As the JDK's own attach code (VirtualMachineImpl.checkCatchesAndSendQuitTo)
 * decides; a blocked signal is no reason to refuse (it may be blocked briefly).
 */
export function catchesSignal(s: Pick<ProcStatus, 'sigCgt' | 'sigIgn'>, sig: number): boolean {
  const bit = 1n << BigInt(sig - 1);
  return ((s.sigCgt ?? 0n) & bit) !== 0n && ((s.sigIgn ?? 0n) & bit) === 0n;
}

/** The real uid (what ps and `list` show), undefined when status lacks it. */
export function realUid(s: ProcStatus): number | undefined {
  return s.uids[0];
}

/** argv from /proc/<pid>/cmdline (NUL-separated, a trailing NUL dropped), each argument decoded on its own. */
export function parseCmdline(bytes: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0) {
      if (i < bytes.length || i > start) out.push(decodeText(bytes.subarray(start, i)));
      start = i + 1;
    }
  }
  return out;
}

export function cmdline(pid: number): string[] {
  return parseCmdline(readProcBytes(pid, 'cmdline'));
}

/** The same, undefined when it cannot be read (gone, not permitted). */
export function cmdlineOrUndefined(pid: number): string[] | undefined {
  try { return cmdline(pid); } catch { return undefined; }
}

export function comm(pid: number): string {
  return readProcFile(pid, 'comm').trimEnd();
}

/** The environment the process started with (/proc/<pid>/environ: its owner or root only). */
export function environ(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of parseCmdline(readProcBytes(pid, 'environ'))) {
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** The same, undefined when it cannot be read (another user's process without privilege). */
export function environOrUndefined(pid: number): Record<string, string> | undefined {
  try { return environ(pid); } catch { return undefined; }
}

/** The names (comm) of pid's threads, at most max of them, and how many it has; undefined when they cannot be listed. */
export function threadNames(pid: number, max: number): { total: number; names: string[] } | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  const names: string[] = [];
  for (const t of tids) {
    if (names.length >= max) break;
    const c = readProcFileOrUndefined(pid, `task/${t}/comm`);
    if (c !== undefined) names.push(c.trimEnd());
  }
  return { total: tids.length, names };
}

/** The executable's path, undefined when not permitted (another user's process). */
export function exe(pid: number): string | undefined {
  try { return readlinkSync(`/proc/${pid}/exe`); } catch { return undefined; }
}

/** /proc/<pid>/maps; undefined when not permitted (another user's process without CAP_SYS_PTRACE). Gone: TargetError. */
export function maps(pid: number): string | undefined {
  try {
    return readProcFile(pid, 'maps');
  } catch (err) {
    if (err instanceof TargetError) throw err;
    return undefined;
  }
}

/** Parses "socket:[12345]"; undefined for anything else. */
export function socketInode(link: string): number | undefined {
  if (!link.startsWith('socket:[')) return undefined;
  const n = Number(link.slice(8, -1));
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The kernel makes a non-dumpable process's /proc/<pid>/fd root's (task_dump_owner),
 * whoever runs it: an owner other than the process's own uid tells.
 */
function notDumpable(pid: number, ownerUid: number): boolean {
  try {
    return statSync(`/proc/${pid}/fd`).uid !== ownerUid;
  } catch {
    return false;
  }
}

/**
 * fd -> socket inode for every socket fd of pid (any family; the sources pick
 * the TCP/UDP ones): one readdir of /proc/<pid>/fd, one readlink per fd. An fd
 * closed between the two is skipped. Gone, or not permitted: TargetError with
 * the errno (the remedy names the owner when ownerUid is given).
 */
export function socketFds(pid: number, ownerUid?: number): Map<number, number> {
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch (err) {
    const code = fsCode(err);
    if (code === 'ENOENT') throw new TargetError(`no such process: ${pid}`, { errno: code, cause: err });
    if ((code === 'EACCES' || code === 'EPERM') && ownerUid !== undefined && notDumpable(pid, ownerUid)) {
      const who = userName(ownerUid) ?? `uid ${ownerUid}`;
      throw new TargetError(
        `cannot list the open files of process ${pid} (owned by ${who}): it is not dumpable, so the kernel lets only root see its fds, even to ${who}`,
        {
          errno: code, cause: err,
          remedy: 'a process is not dumpable after it changed credentials (a setuid/setgid program, setuid(), capabilities gained at exec) or called prctl(PR_SET_DUMPABLE, 0); its own user cannot read it either: run knetstat-java as root (sudo)',
        },
      );
    }
    if (code === 'EACCES' || code === 'EPERM') {
      const owner = ownerUid !== undefined ? userName(ownerUid) ?? `uid ${ownerUid}` : undefined;
      throw new TargetError(
        `cannot list the open files of process ${pid}${owner ? ` (owned by ${owner})` : ''}: permission denied`,
        { errno: code, remedy: `run knetstat-java as root (sudo) or as the process's user${ownerUid !== undefined ? ` ${userName(ownerUid) ?? ownerUid}` : ''}`, cause: err },
      );
    }
    throw err;
  }
  const fds = new Map<number, number>();
  for (const name of names) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${name}`);
    } catch (err) {
      const code = fsCode(err);
      // Listing fds needs only the directory's permissions, reading their links
      // needs ptrace access (root without CAP_SYS_PTRACE, e.g. in a container):
      // that is not "no sockets".
      if (code === 'EACCES' || code === 'EPERM') {
        throw new TargetError(`cannot read the open files of process ${pid}: permission denied (${code} on its fd links)`, {
          errno: code, cause: err,
          remedy: 'reading /proc/<pid>/fd/N needs ptrace access to the process: run knetstat-java as its user, or as root with CAP_SYS_PTRACE (in a container: add that capability)',
        });
      }
      continue; // closed between readdir and readlink
    }
    const inode = socketInode(link);
    if (inode !== undefined) fds.set(Number(name), inode);
  }
  return fds;
}

/** /proc/<pid>/fdinfo/<fd>: "pos:", "flags:" (octal), "mnt_id:", "ino:" and whatever else the file's kind adds, by key. */
export function fdinfo(pid: number, fd: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readProcFile(pid, `fdinfo/${fd}`).split('\n')) {
    const c = line.indexOf(':');
    if (c > 0) out[line.slice(0, c)] = line.slice(c + 1).trim();
  }
  return out;
}

/**
 * O_NONBLOCK as fdinfo's "flags:" prints it (octal): a flag of the open file
 * description, so the target's own, whoever reads it.
 */
export const O_NONBLOCK = constants.O_NONBLOCK;

/**
 * The open(2) status flags of pid's fd (fdinfo "flags:"), when the fd still
 * holds the file with this inode (fdinfo's "ino:"; an fd number may have been
 * reused since the listing). undefined when unreadable, gone or reused.
 */
export function fdFlags(pid: number, fd: number, inode?: number): number | undefined {
  // Read once per socket of a JVM: two matches on the raw text, not fdinfo()'s whole record.
  let text: string;
  try { text = readProcBytes(pid, `fdinfo/${fd}`).toString('latin1'); } catch { return undefined; }
  const ino = /^ino:[ \t]*(\d+)$/m.exec(text)?.[1];
  if (inode !== undefined && ino !== undefined && Number(ino) !== inode) return undefined;
  const flags = /^flags:[ \t]*([0-7]{1,12})$/m.exec(text)?.[1];
  return flags === undefined ? undefined : parseInt(flags, 8);
}

/** The inode of a namespace (/proc/<pid>/ns/<kind>): equal inodes, same namespace. undefined when not permitted or gone. */
export function nsInode(pid: ProcPid, kind: 'net' | 'pid' | 'mnt' | 'user'): number | undefined {
  try { return statSync(`/proc/${pid}/ns/${kind}`).ino; } catch { return undefined; }
}

/** pid's namespace of this kind, and whether it is ours; undefined when not permitted to look. */
export function namespaceOf(pid: number, kind: 'net' | 'pid'): { inode: number; own: boolean } | undefined {
  const inode = nsInode(pid, kind);
  return inode === undefined ? undefined : { inode, own: inode === nsInode('self', kind) };
}

let users: Map<number, string> | undefined;

/** The user name of a uid, from /etc/passwd read once per run; undefined without one. */
export function userName(uid: number): string | undefined {
  if (!users) {
    users = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length > 2 && /^\d+$/.test(f[2]!) && !users.has(Number(f[2]))) users.set(Number(f[2]), f[0]!);
      }
    } catch { /* no passwd: numbers only */ }
  }
  return users.get(uid);
}
