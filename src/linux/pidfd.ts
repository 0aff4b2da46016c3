// Reading another process's sockets through pidfd_getfd(2) (Linux >= 5.6):
// pidfd_open the process once, then for each listed fd a duplicate in this
// process, checked to still be the listed socket (an fd number may have been
// reused since the listing), handed to the caller, closed at once. Needs
// ptrace-attach rights (PTRACE_MODE_ATTACH_REALCREDS) over the process;
// nothing is changed on its side.
// And signalling one process, not a pid (ProcessHandle: --observe's SIGQUIT):
// pidfd_send_signal(2) on a pidfd opened while the process was verified by its
// start time, so a pid reused meanwhile is never signalled.
import { fstatSync } from 'node:fs';
import { SysError } from '../errors.js';
import { ERRNO } from './inet.js';
import * as libc from './libc.js';
import { hasExited } from './lifetime.js';

const { EBADF, ESRCH } = ERRNO;

let statxBuf: { ptr: libc.NativeMemory; buf: Buffer } | null | undefined;

/** The inode of an fd of ours, or undefined when it cannot be read (closed meanwhile). statx when libc has it, else fstat. */
export function inodeOf(fd: number): number | undefined {
  if (statxBuf === undefined) statxBuf = libc.haveStatx() ? libc.nativeBuffer(libc.STATX_SIZE) : null;
  if (statxBuf) {
    if (libc.statx(fd, '', libc.AT_EMPTY_PATH, libc.STATX_INO, statxBuf.ptr) !== 0) return undefined;
    const b = statxBuf.buf;
    if (b.readUInt32LE(libc.STATX_MASK_OFFSET) & libc.STATX_INO) return b.readUInt32LE(libc.STATX_INO_OFFSET + 4) * 0x100000000 + b.readUInt32LE(libc.STATX_INO_OFFSET);
  }
  try { return fstatSync(fd).ino; } catch { return undefined; }
}

export interface DuplicateVisitor {
  /** dup: our duplicate of the target's fd, the listed socket; closed when this returns. */
  socket(fd: number, inode: number, dup: number): void;
  /** The fd closed, or its number now holds another file, since the listing. */
  vanished(fd: number, inode: number): void;
  /** pidfd_getfd failed with errno (EPERM, EACCES ...): return true to go on with the next fd. */
  refused(fd: number, inode: number, errno: number): boolean;
}

/** Every this many fds: progress, and a turn of the event loop (a spinner draws). */
const PROGRESS_EVERY = 512;

/**
 * Duplicates each (fd, inode) of pid in turn. Returns the errno of
 * pidfd_open when the process could not be opened at all (ESRCH: gone;
 * EPERM ...), else undefined.
 */
export async function forEachDuplicate(pid: number, fds: Iterable<readonly [fd: number, inode: number]>, visit: DuplicateVisitor,
  progress?: (done: number) => void): Promise<number | undefined> {
  const pidfd = libc.pidfdOpen(pid);
  if (pidfd < 0) return libc.errno();
  let done = 0;
  try {
    for (const [fd, inode] of fds) {
      if (++done % PROGRESS_EVERY === 0) {
        progress?.(done);
        await new Promise((r) => setImmediate(r));
      }
      const dup = libc.pidfdGetfd(pidfd, fd);
      if (dup < 0) {
        const e = libc.errno();
        if (e === EBADF || e === ESRCH) { visit.vanished(fd, inode); continue; }
        if (!visit.refused(fd, inode, e)) break;
        continue;
      }
      try {
        if (inodeOf(dup) !== inode) { visit.vanished(fd, inode); continue; }
        visit.socket(fd, inode, dup);
      } finally {
        libc.close(dup);
      }
    }
  } finally {
    libc.close(pidfd);
  }
  return undefined;
}

/** A handle on one process for signalling; open() checks the start time after the pidfd exists. */
export class ProcessHandle {
  private constructor(readonly pid: number, private fd: number) {}

  /** undefined when the process with this start time is gone (or exiting). */
  static open(pid: number, start: number): ProcessHandle | undefined {
    const fd = libc.pidfdOpen(pid);
    if (fd < 0) {
      const e = libc.errno();
      if (e === ESRCH) return undefined;
      throw new SysError('pidfd_open', e);
    }
    // The pidfd pins this process; had the pid been reused before it was opened, the start time would differ.
    if (hasExited(pid, start)) {
      libc.close(fd);
      return undefined;
    }
    return new ProcessHandle(pid, fd);
  }

  /** false when the process has exited. */
  signal(sig: number): boolean {
    if (this.fd < 0) return false;
    if (libc.pidfdSendSignal(this.fd, sig) === 0) return true;
    const e = libc.errno();
    if (e === ESRCH) return false;
    throw new SysError('pidfd_send_signal', e);
  }

  close(): void {
    if (this.fd >= 0) libc.close(this.fd);
    this.fd = -1;
  }
}
