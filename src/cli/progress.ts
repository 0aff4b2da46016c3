// Progress for long captures: an ora spinner on stderr, only when stderr is a
// terminal, CI is not set and --quiet was not given. Nothing ever on stdout.
import ora, { type Ora } from 'ora';

export interface Progress {
  update: (done: number, total: number) => void;
  stop: () => void;
}

export function progressWanted(quiet?: boolean): boolean {
  return !quiet && process.stderr.isTTY === true && !process.env.CI;
}

export function progressReporter(quiet?: boolean, label = 'reading sockets'): Progress {
  if (!progressWanted(quiet)) return { update: () => {}, stop: () => {} };
  let spinner: Ora | undefined;
  const started = Date.now();
  return {
    update(done, total) {
      // Short captures finish before a spinner would be seen: start after 300 ms.
      if (!spinner && Date.now() - started < 300) return;
      spinner ??= ora({ stream: process.stderr, text: label }).start();
      spinner.text = `${label}: ${done}/${total}`;
    },
    stop() {
      spinner?.stop();
    },
  };
}
