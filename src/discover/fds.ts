// pid -> fd -> socket inode, from /proc/<pid>/fd (one readdir, one readlink per fd).
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { TargetError, fsCode } from '../errors.js';
import { userName } from './process.js';

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

/** All socket fds of pid (any family; the sources pick the TCP/UDP ones). */
export function socketFds(pid: number, ownerUid?: number): Map<number, number> {
  let names: string[];
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch (err) {
    const code = fsCode(err);
    if (code === 'ENOENT') throw new TargetError(`no such process: ${pid}`, { errno: code });
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
      const who = ownerUid !== undefined ? ` (owned by ${userName(ownerUid) ?? `uid ${ownerUid}`})` : '';
      throw new TargetError(
        `cannot list the open files of process ${pid}${who}: permission denied`,
        { errno: code, remedy: `run knetstat-java as root (sudo) or as the process's user${who ? ` ${userName(ownerUid!) ?? ownerUid}` : ''}`, cause: err },
      );
    }
    throw err;
  }
  const fds = new Map<number, number>();
  for (const name of names) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${name}`);
    } catch {
      continue; // closed between readdir and readlink
    }
    const inode = socketInode(link);
    if (inode !== undefined) fds.set(Number(name), inode);
  }
  return fds;
}
