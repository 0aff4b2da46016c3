// --observe <duration> for the report: record the JVM's socket events for
// that long (src/observe), then let the capture that follows carry the
// result: "observed" on each socket it explains, "observation" at the top.
// Ctrl-C or SIGTERM during the window stops the recording and removes its
// files before the tool dies of the signal.
import { constants } from 'node:os';
import { ObserveError, UsageError, type KnetstatError } from '../errors.js';
import { fdFlags, O_NONBLOCK } from '../linux/procstatus.js';
import type { Capture } from '../model/types.js';
import { finish, observe, type ObserveRun } from '../observe/index.js';

/** "10s", "2m", "1h", "500ms"; a bare number is seconds. */
export function parseDuration(text: string): number {
  const m = /^([0-9]{1,7})(ms|s|m|h)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'] : NaN;
  if (!(ms >= 1000 && ms <= 3_600_000)) throw new UsageError(`--observe takes a duration from 1s to 1h, like 10s or 2m (got '${text.slice(0, 20)}')`);
  return ms;
}

/** Runs the observation; on SIGINT/SIGTERM cleans up, then dies of the signal. */
export async function runObservation(pid: number, duration: string, warn: (msg: string) => void): Promise<ObserveRun | undefined> {
  const durationMs = parseDuration(duration);
  const ac = new AbortController();
  let got: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => { got ??= s; ac.abort(); };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await observe(pid, { durationMs, signal: ac.signal });
  } catch (e) {
    if (got) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.kill(process.pid, got);
      process.exit(128 + (constants.signals[got] ?? 15));
    }
    // The JVM could not be observed: the report still stands, without it (exit 3).
    if (e instanceof ObserveError && e.kind !== 'not-permitted') {
      warn(`${e.message}${(e as KnetstatError).remedy ? ` (${(e as KnetstatError).remedy})` : ''}`);
      return undefined;
    }
    throw e;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** Puts the observation into a capture taken after it: per socket "observed", top-level "observation". */
export function applyObservation(cap: Capture, run: ObserveRun): void {
  const refs = cap.sockets.map((s) => {
    const flags = s.fd >= 0 ? fdFlags(cap.process.pid, s.fd) : undefined;
    return { key: s.inode, protocol: s.protocol, state: s.state, local: s.local, remote: s.remote, ...(flags !== undefined ? { nonBlocking: (flags & O_NONBLOCK) !== 0 } : {}) };
  });
  const { perSocket, observation } = finish(run, refs);
  for (const s of cap.sockets) {
    const o = perSocket.get(s.inode);
    if (o) s.observed = o;
  }
  cap.observation = observation;
}
