// A live capture as the commands make it: a spinner on a terminal's stderr
// while it runs, and afterwards the warnings and the one line that says a
// capture was partial.
import { capture } from '../capture.js';
import type { Capture } from '../model/types.js';
import type { CaptureFlags } from './options.js';
import { stderrLine, warn } from './output.js';
import { progressReporter } from './progress.js';

export async function captureTarget(pid: number, flags: CaptureFlags, label?: string): Promise<Capture> {
  const progress = await progressReporter(flags.quiet, label);
  try {
    return await capture(pid, { source: flags.source, any: flags.any, progress: progress.update, probeJdk: flags.probeJdk });
  } finally {
    progress.stop();
  }
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
export function warnPartial(what: 'report' | 'snapshot', cap: Pick<Capture, 'partial' | 'missing' | 'exited' | 'process'>, rendered = false): boolean {
  if (!cap.partial) return false;
  const m = cap.missing;
  const parts: string[] = [];
  if (cap.exited) parts.push(`process ${cap.process.pid} exited during the scan`);
  if (m) parts.push(`${m.options.length} option(s) ${rendered ? 'were unreadable at capture time' : 'unreadable'}: ${m.reason}`);
  stderrLine(`partial ${what}: ${parts.join('; ') || 'some data could not be read'}`);
  return true;
}
