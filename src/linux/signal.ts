// Signalling one process, not a pid: pidfd_send_signal(2) on a pidfd opened
// while the process was verified (start time), so a pid reused meanwhile is
// never signalled. Linux >= 5.1 (pidfd_open: 5.3).
import koffi from 'koffi';
import { pidfdOpen, errno, close } from './libc.js';
import { SysError } from '../errors.js';
import { sameProcess } from './procstatus.js';

const libc = koffi.load('libc.so.6');
const SYS_pidfd_send_signal = 424;
const syscall4 = libc.func('syscall', 'long', ['long', 'int', 'int', 'void *', 'uint']);

/** A handle on one process for signalling; open() checks the start time after the pidfd exists. */
export class ProcessHandle {
  private constructor(readonly pid: number, private fd: number) {}

  /** undefined when the process with this start time is gone. */
  static open(pid: number, start: number): ProcessHandle | undefined {
    const fd = pidfdOpen(pid);
    if (fd < 0) {
      const e = errno();
      if (e === 3) return undefined; // ESRCH
      throw new SysError('pidfd_open', e);
    }
    // The pidfd pins this process; if the pid was reused before it was opened, the start time differs.
    if (!sameProcess(pid, start)) {
      close(fd);
      return undefined;
    }
    return new ProcessHandle(pid, fd);
  }

  /** false when the process has exited. */
  signal(sig: number): boolean {
    if (this.fd < 0) return false;
    const r = Number(syscall4(SYS_pidfd_send_signal, this.fd, sig, null, 0));
    if (r === 0) return true;
    const e = errno();
    if (e === 3) return false;
    throw new SysError('pidfd_send_signal', e);
  }

  close(): void {
    if (this.fd >= 0) close(this.fd);
    this.fd = -1;
  }
}
