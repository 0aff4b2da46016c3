// check --all-jvms: every JVM of the host against one policy, in one result.
// Each JVM `list` shows is checked (CheckResult), or skipped because it exited
// during the run (nothing it had is judged: a half-read JVM could fail a rule
// for sockets that were never read), or reported as not inspectable (another
// user's JVM without root: its rules are unknown, not passed). Pure: the CLI
// captures; this combines and says what the whole run comes to.
import type { CheckResult, Status } from './evaluate.js';

export type JvmOutcome = 'checked' | 'exited' | 'not-inspectable';

export interface JvmCheck {
  pid: number;
  /** As `list` shows it (jps -l): main class, jar or module. */
  mainClass?: string;
  user?: string;
  uid?: number;
  outcome: JvmOutcome;
  /** checked: the check's status; exited: skip; not-inspectable: unknown. */
  status: Status;
  /** Why it was skipped or could not be inspected. */
  reason?: string;
  result?: CheckResult;
}

export interface AllJvmsResult {
  allJvms: true;
  origin: string;
  hostname: string;
  startedAt: string;
  tool: { name: string; version: string };
  /** fail if a rule failed anywhere; else unknown if anything could not be read or inspected; else pass. */
  status: Exclude<Status, 'skip'>;
  counts: { jvms: number; passed: number; failed: number; unknown: number; skipped: number };
  jvms: JvmCheck[];
}

export interface JvmIdentity {
  pid: number;
  mainClass?: string;
  user?: string;
  uid?: number;
}

function identity(j: JvmIdentity): JvmIdentity {
  return {
    pid: j.pid,
    ...(j.mainClass !== undefined ? { mainClass: j.mainClass } : {}),
    ...(j.user !== undefined ? { user: j.user } : {}),
    ...(j.uid !== undefined ? { uid: j.uid } : {}),
  };
}

export function checkedJvm(j: JvmIdentity, result: CheckResult): JvmCheck {
  return { ...identity(j), outcome: 'checked', status: result.status, result };
}

export function exitedJvm(j: JvmIdentity, reason: string): JvmCheck {
  return { ...identity(j), outcome: 'exited', status: 'skip', reason };
}

export function uninspectableJvm(j: JvmIdentity, reason: string): JvmCheck {
  return { ...identity(j), outcome: 'not-inspectable', status: 'unknown', reason };
}

export function summarize(jvms: JvmCheck[], meta: Pick<AllJvmsResult, 'origin' | 'hostname' | 'startedAt' | 'tool'>): AllJvmsResult {
  const count = (s: Status) => jvms.filter((j) => j.status === s).length;
  const counts = { jvms: jvms.length, passed: count('pass'), failed: count('fail'), unknown: count('unknown'), skipped: count('skip') };
  return {
    allJvms: true, ...meta,
    status: counts.failed ? 'fail' : counts.unknown ? 'unknown' : 'pass',
    counts, jvms,
  };
}

/** "pid 4242 (com.example.Orders)": how a JVM is named in suites and lines. */
export function jvmName(j: JvmIdentity): string {
  return `pid ${j.pid}${j.mainClass ? ` (${j.mainClass})` : ''}`;
}
