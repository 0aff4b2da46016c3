// Progress for long captures: an ora spinner on stderr, only when stderr is a
// terminal, CI is not set and --quiet was not given. Nothing ever on stdout.
// ora (and what it pulls in, ~50 ms of start-up unbundled) is imported only
// when a spinner may be shown, and that is decided before the capture starts
// (a terminal, no CI, no --quiet), not by how long the capture turns out: a
// capture that becomes long still gets its spinner from its first progress on,
// and a run without a terminal never loads ora.
import type { Ora } from 'ora';
import { mayBeTerminal } from './output.js';

export interface Progress {
  update: (done: number, total: number) => void;
  /** Any other progress line ("observing ... 3 s of 10 s"). */
  say: (text: string) => void;
  stop: () => void;
}

export function progressWanted(quiet?: boolean): boolean {
  // A terminal that reports no width (serial consoles, `script` without stty)
  // would make ora clear an unbounded number of lines: no spinner there.
  return !quiet && !process.env.CI && mayBeTerminal(2) && process.stderr.isTTY === true && (process.stderr.columns ?? 0) > 0;
}

export async function progressReporter(quiet?: boolean, label = 'reading sockets'): Promise<Progress> {
  if (!progressWanted(quiet)) return { update: () => {}, say: () => {}, stop: () => {} };
  const ora = (await import('ora')).default;
  let stopped = false;
  let spinner: Ora | undefined;
  const started = Date.now();
  // Short captures finish before a spinner would be seen: start after 300 ms
  // (KNETSTAT_PROGRESS_DELAY_MS changes that, for tests and slow terminals).
  const delay = Number(process.env.KNETSTAT_PROGRESS_DELAY_MS ?? 300);
  const say = (text: string) => {
    if (stopped || (!spinner && Date.now() - started < delay)) return;
    if (spinner) spinner.text = text;
    else spinner = ora({ stream: process.stderr, text }).start();
  };
  return {
    update: (done, total) => say(`${label}: ${done}/${total}`),
    say,
    stop() {
      stopped = true;
      spinner?.stop();
    },
  };
}
