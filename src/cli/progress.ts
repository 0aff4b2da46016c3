// Progress for long captures: an ora spinner on stderr, only when stderr is a
// terminal, CI is not set and --quiet was not given. Nothing ever on stdout.
import ora, { type Ora } from 'ora';

export interface Progress {
  update: (done: number, total: number) => void;
  /** Any other progress line ("observing ... 3 s of 10 s"). */
  say: (text: string) => void;
  stop: () => void;
}

export function progressWanted(quiet?: boolean): boolean {
  // A terminal that reports no width (serial consoles, `script` without stty)
  // would make ora clear an unbounded number of lines: no spinner there.
  return !quiet && process.stderr.isTTY === true && !process.env.CI && (process.stderr.columns ?? 0) > 0;
}

export function progressReporter(quiet?: boolean, label = 'reading sockets'): Progress {
  if (!progressWanted(quiet)) return { update: () => {}, say: () => {}, stop: () => {} };
  let spinner: Ora | undefined;
  const started = Date.now();
  // Short captures finish before a spinner would be seen: start after 300 ms
  // (KNETSTAT_PROGRESS_DELAY_MS changes that, for tests and slow terminals).
  const delay = Number(process.env.KNETSTAT_PROGRESS_DELAY_MS ?? 300);
  const say = (text: string) => {
    if (!spinner && Date.now() - started < delay) return;
    if (spinner) spinner.text = text;
    else spinner = ora({ stream: process.stderr, text }).start();
  };
  return {
    update: (done, total) => say(`${label}: ${done}/${total}`),
    say,
    stop() {
      spinner?.stop();
    },
  };
}
