// A live capture as the commands make it: with --observe, the observation
// first (observe.ts); a spinner on a terminal's stderr while it runs; and
// afterwards the warnings and the one line that says a capture was partial.
import { capture } from '../capture.js';
import type { ObserveError } from '../errors.js';
import type { Capture } from '../model/types.js';
import type { CaptureFlags } from './options.js';
import { stderrLine, warn } from './output.js';
import { progressReporter } from './progress.js';

export async function captureTarget(pid: number, flags: CaptureFlags, label?: string): Promise<Capture> {
  // The observation code loads only for --observe (start-up of every other run).
  const obs = flags.observe !== undefined ? await import('./observe.js') : undefined;
  // A bad duration is refused before the target is touched.
  const observeMs = obs && flags.observe !== undefined ? obs.parseDuration(flags.observe) : undefined;
  const observed = obs && observeMs !== undefined ? await obs.observeTarget(pid, observeMs, flags.quiet) : undefined;
  const progress = await progressReporter(flags.quiet, label);
  let cap: Capture;
  try {
    cap = await capture(pid, { source: flags.source, any: flags.any, progress: progress.update, probeJdk: flags.probeJdk });
  } finally {
    progress.stop();
  }
  if (observed?.run) (await import('../observe/index.js')).applyObservation(cap, observed.run);
  else if (observed?.failed) notObserved(cap, observed.failed);
  return cap;
}

/** The JVM could not be observed: the report stands without the observation, says why, and is partial (exit 3). */
function notObserved(cap: Capture, e: ObserveError): void {
  const reason = `${e.message}${e.remedy ? ` (${e.remedy})` : ''}`;
  cap.notObserved = { kind: e.kind, reason };
  cap.warnings.push(`not observed: ${reason}`);
  cap.partial = true;
}

export function writeWarnings(warnings: string[]): void {
  for (const w of warnings) warn(w);
}

/**
 * "partial report: 3 option(s) unreadable: <why>" on stderr when the capture
 * was partial (and "process N exited during the scan" when it did); returns
 * whether it was. rendered: the capture is a snapshot read back, so the
 * options "were unreadable at capture time".
 */
export function warnPartial(what: 'report' | 'snapshot', cap: Pick<Capture, 'partial' | 'missing' | 'exited' | 'process' | 'notObserved'>, rendered = false): boolean {
  if (!cap.partial) return false;
  const m = cap.missing;
  const parts: string[] = [];
  if (cap.exited) parts.push(`process ${cap.process.pid} exited during the scan`);
  if (cap.notObserved) parts.push(`the JVM ${rendered ? 'could not be observed at capture time' : 'could not be observed'} (--observe: ${cap.notObserved.kind})`);
  if (m) parts.push(`${m.options.length} option(s) ${rendered ? 'were unreadable at capture time' : 'unreadable'}: ${m.reason}`);
  stderrLine(`partial ${what}: ${parts.join('; ') || 'some data could not be read'}`);
  return true;
}
