// Options shared by the commands, built once here (commands never import the
// entry, main.ts), and the flags they produce.
import { Option, type Command } from 'commander';
import type { SourceChoice } from '../capture.js';
import { SOURCE_NAMES } from '../model/types.js';

/** What a command that captures a live process takes. */
export interface CaptureFlags {
  source: SourceChoice;
  any?: boolean;
  quiet?: boolean;
  probeJdk?: boolean;
  /** --observe <duration>: first record the JVM's socket events (cli/observe.ts). */
  observe?: string;
}

export interface ReportFlags extends CaptureFlags {
  format: string;
  output?: string;
}

export function sourceOption(): Option {
  return new Option('-s, --source <name>', 'where values come from').choices(['auto', ...SOURCE_NAMES]).default('auto');
}

/** -f: with choices, commander refuses anything else; without, the command checks (the root's -f serves several views). */
export function formatOption(formats: string[], opts: { choices?: boolean } = {}): Option {
  if (opts.choices) return new Option('-f, --format <format>', 'output format').choices(formats).default('text');
  return new Option('-f, --format <format>', `output format (${formats.join(', ')})`).default('text');
}

export function outputOption(what = 'the report'): Option {
  return new Option('-o, --output <file>', `write ${what} to a file (created only when complete)`);
}

/** --source, --any, --quiet, --probe-jdk, --observe: every command that captures a live process. */
export function addCaptureOptions(cmd: Command): Command {
  return cmd
    .addOption(sourceOption())
    .option('--any', 'do not warn when the process is not a JVM')
    .option('-q, --quiet', 'no progress on stderr')
    .option('--probe-jdk', "measure the JDK's own defaults from the target's JDK (starts a short-lived probe JVM on loopback)")
    .option('--observe <duration>', "first record the JVM's own socket reads and writes for that long (JFR, e.g. 10s): read timeouts, bytes, the code that reads (README \"Timeouts\")");
}
