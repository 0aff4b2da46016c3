// --observe <duration>, for every command that captures a live process: the
// observation runs first (src/observe), and the capture made after it
// carries its result (capturing.ts). On a terminal a spinner shows the
// window. SIGINT, SIGTERM or SIGHUP during it: the recording is stopped and
// its files removed (an asynchronous undo step of cleanup.ts, with a bounded
// wait), then the tool dies of the signal.
import { interrupted, onInterruptAsync } from '../cleanup.js';
import { ObserveError, UsageError } from '../errors.js';
import { observe, type ObserveRun } from '../observe/index.js';
import { progressReporter } from './progress.js';

/** "10s", "2m", "1h", "500ms"; a bare number is seconds. From 1 s to 1 h. */
export function parseDuration(text: string): number {
  const m = /^([0-9]{1,7})(ms|s|m|h)?$/.exec(text.trim());
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'] : NaN;
  if (!(ms >= 1000 && ms <= 3_600_000)) throw new UsageError(`--observe takes a duration from 1s to 1h, like 10s or 2m (got '${text.slice(0, 20)}')`);
  return ms;
}

/** An observation, or why there is none (the report then stands without it). */
export type ObserveOutcome = { run: ObserveRun; failed?: undefined } | { run?: undefined; failed: ObserveError };

/**
 * Observes pid for durationMs. A JVM that cannot be observed is an outcome,
 * not an error, except when the caller may not act on it at all
 * ('not-permitted', thrown: exit 2, like any target it may not inspect).
 */
export async function observeTarget(pid: number, durationMs: number, quiet?: boolean): Promise<ObserveOutcome> {
  const progress = await progressReporter(quiet);
  const ac = new AbortController();
  const seconds = Math.round(durationMs / 1000);
  let tick: NodeJS.Timeout | undefined;
  progress.say(`--observe: attaching to pid ${pid}`);
  const running = observe(pid, {
    durationMs,
    signal: ac.signal,
    onStarted: () => {
      const t0 = Date.now();
      const show = () => {
        const s = Math.floor((Date.now() - t0) / 1000);
        progress.say(s < seconds ? `--observe: recording pid ${pid}'s socket reads and writes (JFR): ${s} s of ${seconds} s` : '--observe: stopping the recording, reading it');
      };
      show();
      tick = setInterval(show, 1000);
      tick.unref();
    },
  });
  const unregister = onInterruptAsync(async () => {
    ac.abort();
    await running.catch(() => undefined);
  });
  try {
    return { run: await running };
  } catch (e) {
    // Interrupted: the signal handler ends the tool once the recording is stopped; nothing more is written.
    if (interrupted()) await new Promise<never>(() => { /* never */ });
    if (e instanceof ObserveError && e.kind !== 'not-permitted') return { failed: e };
    throw e;
  } finally {
    clearInterval(tick);
    unregister();
    progress.stop();
  }
}
