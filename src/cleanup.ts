// Things to undo if the tool is interrupted: a half-written temporary output
// file, the probe's private directory, the probe JVM. While any is pending,
// SIGINT, SIGTERM and SIGHUP run them (synchronously) and then the tool dies
// of the same signal, so its parent sees the conventional status (130, 143,
// 129 in a shell). With nothing pending the signals keep their default action.
import { constants } from 'node:os';

type Undo = () => void;

const pending = new Set<Undo>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  // Default action restored: die of the signal itself.
  process.kill(process.pid, signal);
  // Should the signal be blocked or ignored by our parent's choice, still exit as a shell would report it.
  process.exit(128 + (constants.signals[signal] ?? 15));
}

function runAll(): void {
  for (const u of [...pending]) {
    pending.delete(u);
    try { u(); } catch { /* best effort: the others still run */ }
  }
}

/** Registers undo; returns a function that unregisters it (call it once the work is done or undone). */
export function onInterrupt(undo: Undo): () => void {
  if (pending.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  pending.add(undo);
  return () => {
    pending.delete(undo);
    if (pending.size === 0) for (const s of SIGNALS) process.removeListener(s, onSignal);
  };
}
