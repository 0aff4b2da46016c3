// Things to undo if the tool is interrupted: a half-written temporary output
// file, the probe's private directory, the probe JVM; and, asynchronously, a
// JFR recording that --observe runs in the target JVM (stopping it takes a
// round trip to the JVM). While any is pending, SIGINT, SIGTERM and SIGHUP
// run them and then the tool dies of the same signal, so its parent sees the
// conventional status (130, 143, 129 in a shell). With nothing pending the
// signals keep their default action.
// The synchronous steps always run first, at once, before any asynchronous one
// starts: a temporary file is gone however long the rest takes. The
// asynchronous steps then get a bounded wait (ASYNC_UNDO_MS by default): a
// JVM that does not answer cannot keep the tool alive. A second signal during
// that wait ends the tool at once.
import { constants } from 'node:os';

type Undo = () => void;
type AsyncUndo = () => Promise<unknown>;

/** How long an interrupted tool waits for its asynchronous undo steps before it dies anyway. */
export const ASYNC_UNDO_MS = 5_000;

const pending = new Set<Undo>();
const pendingAsync = new Map<AsyncUndo, number>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let interruptedBy: NodeJS.Signals | undefined;

/** The signal the tool is dying of, while its asynchronous undo steps run; undefined otherwise. */
export function interrupted(): NodeJS.Signals | undefined {
  return interruptedBy;
}

function listening(): boolean {
  return pending.size > 0 || pendingAsync.size > 0 || interruptedBy !== undefined;
}

function die(signal: NodeJS.Signals): never {
  runAll();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  // Default action restored: die of the signal itself.
  process.kill(process.pid, signal);
  // Should the signal be blocked or ignored by our parent's choice, still exit as a shell would report it.
  process.exit(128 + (constants.signals[signal] ?? 15));
}

function onSignal(signal: NodeJS.Signals): void {
  if (interruptedBy) die(interruptedBy); // a second signal: the synchronous steps have run; no more waiting
  interruptedBy = signal;
  runAll();
  const steps = [...pendingAsync];
  pendingAsync.clear();
  if (steps.length === 0) die(signal);
  const bound = Math.max(...steps.map(([, ms]) => ms));
  setTimeout(() => die(signal), bound);
  void Promise.allSettled(steps.map(([u]) => {
    try { return u(); } catch (e) { return Promise.reject(e); }
  })).then(() => die(signal));
}

function runAll(): void {
  for (const u of [...pending]) {
    pending.delete(u);
    try { u(); } catch { /* best effort: the others still run */ }
  }
}

function install(): void {
  if (!listening()) for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  if (!listening()) for (const s of SIGNALS) process.removeListener(s, onSignal);
}

/** Registers undo; returns a function that unregisters it (call it once the work is done or undone). */
export function onInterrupt(undo: Undo): () => void {
  install();
  pending.add(undo);
  return () => {
    pending.delete(undo);
    uninstall();
  };
}

/**
 * Registers an asynchronous undo step (stop a recording in the target and
 * remove its files): on a signal it starts after every synchronous step has
 * run, and the tool waits for it at most boundMs. Returns the unregister function.
 */
export function onInterruptAsync(undo: AsyncUndo, boundMs = ASYNC_UNDO_MS): () => void {
  install();
  pendingAsync.set(undo, boundMs);
  return () => {
    pendingAsync.delete(undo);
    uninstall();
  };
}
