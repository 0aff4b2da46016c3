// Whether the process a capture started on is still the one running: its
// start time (field 22 of /proc/<pid>/stat, clock ticks after boot) tells it
// from a new process that reused the pid. A capture compares it at the end,
// so a process that exits mid-scan is reported as such, never as a complete
// report of whatever was read before it went.
import { statOrUndefined } from './proc.js';

/** task->flags: set as do_exit begins, before the fds are closed and long before the zombie state. */
const PF_EXITING = 0x4;

/** The start time of pid, or undefined when it has gone. */
export function startTime(pid: number): number | undefined {
  return statOrUndefined(pid)?.startTime;
}

/**
 * True when the process that had this start time has exited or is exiting:
 * gone, a zombie, its exit under way (its fds may already be closed), or the
 * pid now someone else's.
 */
export function hasExited(pid: number, start: number | undefined): boolean {
  const s = statOrUndefined(pid);
  return s === undefined || s.state === 'Z' || s.state === 'X' || (s.flags & PF_EXITING) !== 0 || (start !== undefined && s.startTime !== start);
}
