// Whether the process a capture started on is still the one running: its
// start time (field 22 of /proc/<pid>/stat, clock ticks after boot) tells it
// from a new process that reused the pid. A capture compares it at the end,
// so a process that exits mid-scan is reported as such, never as a complete
// report of whatever was read before it went.
import { readProcText } from './files.js';

interface Stat { state: string; flags: number; start: number }

/** task->flags: set as do_exit begins, before the fds are closed and long before the zombie state. */
const PF_EXITING = 0x4;

function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readProcText(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // After the parenthesised comm (which may hold spaces and parentheses): state is field 3, flags 9, starttime 22.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const start = Number(f[19]);
  return Number.isFinite(start) ? { state: f[0] ?? '?', flags: Number(f[6]), start } : undefined;
}

/** The start time of pid, or undefined when it has gone. */
export function startTime(pid: number): number | undefined {
  return stat(pid)?.start;
}

/**
 * True when the process that had this start time has exited or is exiting:
 * gone, a zombie, its exit under way (its fds may already be closed), or the
 * pid now someone else's.
 */
export function hasExited(pid: number, start: number | undefined): boolean {
  const s = stat(pid);
  return s === undefined || s.state === 'Z' || s.state === 'X' || (s.flags & PF_EXITING) !== 0 || (start !== undefined && s.start !== start);
}
