// Exit codes (README "Exit codes") and the one place that turns an error into
// one and a one-line message: library code throws typed errors (errors.ts)
// and decides nothing more.
import type { CommanderError } from 'commander';
import { FatalSysError, KnetstatError } from '../errors.js';
import { stderrLine } from './output.js';

export const EXIT = {
  OK: 0,
  /** check: some rule failed (bpf-selfcheck: some value or flag differed). */
  CHECK_FAILED: 1,
  /** Bad input: pid, file, flag, policy; or a process we may not even look at. */
  USAGE: 2,
  /** A report was produced but some data could not be read (permissions, kernel, --probe-jdk); bpf-selfcheck cannot run here. */
  PARTIAL: 3,
  /** Internal error: a bug, or a state the tool cannot go on from (FatalSysError). */
  INTERNAL: 70,
} as const;

/** The exit code of a typed error: every KnetstatError is bad input, or a target we may not inspect, but a fatal one. */
export function exitCodeOf(err: KnetstatError): number {
  return err instanceof FatalSysError ? EXIT.INTERNAL : EXIT.USAGE;
}

/** commander's errors (code "commander.…"), told apart without loading commander (--version never does). */
function isCommanderError(err: unknown): err is CommanderError {
  return err instanceof Error && typeof (err as Partial<CommanderError>).code === 'string' && (err as CommanderError).code.startsWith('commander.')
    && typeof (err as Partial<CommanderError>).exitCode === 'number';
}

/** One line on stderr, the documented exit code; a stack trace only for bugs, and only with KNETSTAT_DEBUG. */
export function exitFor(err: unknown): number {
  if (isCommanderError(err)) {
    if (err.exitCode === 0) return 0; // --help, --version
    stderrLine(err.message.replace(/^error: /, ''));
    return EXIT.USAGE;
  }
  if (err instanceof KnetstatError) {
    stderrLine(`${err.message}${err.remedy ? ` (${err.remedy})` : ''}`);
    return exitCodeOf(err);
  }
  const e = err as Error;
  stderrLine(`internal error: ${e?.message ?? String(err)}`);
  if (process.env.KNETSTAT_DEBUG) process.stderr.write(`${e?.stack}\n`);
  return EXIT.INTERNAL;
}
