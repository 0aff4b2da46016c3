// Progress for long captures: an ora spinner on stderr, only when stderr is a
// terminal, CI is not set and --quiet was not given. Nothing ever on stdout.
import ora, { type Ora } from 'ora';

export interface Progress {
  update: (done: number, total: number) => void;
  stop: () => void;
}

export function progressWanted(quiet?: boolean): boolean {
  // A terminal that reports no width (serial consoles, `script` without stty)
  // would make ora clear an unbounded number of lines: no spinner there.
  return !quiet && process.stderr.isTTY === true && !process.env.CI && (process.stderr.columns ?? 0) > 0;
}

export function progressReporter(quiet?: boolean, label = 'reading sockets'): Progress {
  if (!progressWanted(quiet)) return { update: () => {}, stop: () => {} };
  let spinner: Ora | undefined;
  const started = Date.now();
  // Short captures finish before a spinner would be seen: start after 300 ms
  // (KNETSTAT_PROGRESS_DELAY_MS changes that, for tests and slow terminals).
  const delay = Number(process.env.KNETSTAT_PROGRESS_DELAY_MS ?? 300);
  return {
    update(done, total) {
      if (!spinner && Date.now() - started < delay) return;
      const text = `${label}: ${done}/${total}`;
      if (spinner) spinner.text = text;
      else spinner = ora({ stream: process.stderr, text }).start();
    },
    stop() {
      spinner?.stop();
    },
  };
}
