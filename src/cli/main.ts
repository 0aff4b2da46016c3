#!/usr/bin/env node
// The CLI entry. The only place that turns errors into exit codes and
// one-line messages; everything below it throws typed errors.
import { Command, CommanderError, Option } from 'commander';
import { capture, type SourceChoice } from '../capture.js';
import { parsePid } from '../discover/process.js';
import { analyze, analyzeSockets } from '../java/analyze.js';
import { renderJson } from '../render/json.js';
import { renderer, formats } from '../render/index.js';
import { EXIT, KnetstatError } from '../errors.js';
import { TOOL } from '../version.js';
import { writeOutput } from './output.js';
import { progressReporter } from './progress.js';
import { SOURCE_NAMES } from '../sources/index.js';
import { registerAll } from './commands/index.js';

export interface ReportFlags {
  format: string;
  source: SourceChoice;
  any?: boolean;
  quiet?: boolean;
  output?: string;
  probeJdk?: boolean;
}

export function sourceOption(): Option {
  return new Option('-s, --source <name>', 'where values come from').choices(['auto', ...SOURCE_NAMES]).default('auto');
}

export function formatOption(extra: string[] = []): Option {
  return new Option('-f, --format <format>', `output format (${[...new Set([...formats(), ...extra])].join(', ')})`).default('text');
}

/** knetstat-java <pid>: capture, analyse, render. Returns the exit code. */
export async function reportCommand(pidText: string, flags: ReportFlags): Promise<number> {
  const pid = parsePid(pidText);
  const render = renderer(flags.format);
  const progress = progressReporter(flags.quiet);
  let report, chunks: Iterable<string>;
  try {
    const cap = await capture(pid, { source: flags.source, any: flags.any, progress: progress.update, probeJdk: flags.probeJdk });
    if (flags.format === 'json') {
      // Streamed: each socket analysed as it is written, never all held at once (50,000-socket JVMs).
      report = analyze({ ...cap, sockets: [] });
      chunks = renderJson(report, analyzeSockets(cap));
    } else {
      report = analyze(cap);
      chunks = render(report);
    }
  } finally {
    progress.stop();
  }
  await writeOutput(chunks, flags.output);
  for (const w of report.warnings) if (flags.format !== 'text') process.stderr.write(`knetstat-java: warning: ${w}\n`);
  if (report.partial) {
    process.stderr.write(`knetstat-java: partial report: ${report.missing ? `${report.missing.options.length} option(s) unreadable: ${report.missing.reason}` : 'some data could not be read'}\n`);
    return EXIT.PARTIAL;
  }
  return EXIT.OK;
}

type NoPidHandler = (flags: ReportFlags & Record<string, unknown>, cmd: Command) => Promise<number>;
let noPidHandler: NoPidHandler | undefined;
/** What `knetstat-java` without a pid does (the host-wide views register it). */
export function setNoPidHandler(h: NoPidHandler): void {
  noPidHandler = h;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('knetstat-java')
    .description('Show the socket options of a running JVM, and the Java calls that set them')
    .version(TOOL.version)
    .argument('[pid]', 'process id of the JVM (without it: the JVMs on this host, as `list`)')
    .addOption(formatOption())
    .addOption(sourceOption())
    .option('--any', 'do not warn when the process is not a JVM')
    .option('-q, --quiet', 'no progress on stderr')
    .option('--probe-jdk', "measure the JDK's own defaults from the target's JDK (starts a short-lived probe JVM on loopback)")
    .option('-o, --output <file>', 'write the report to a file (created only when complete)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => { /* main() prints one line */ } })
    .action(async (pid: string | undefined, flags: ReportFlags & Record<string, unknown>, cmd: Command) => {
      if (pid === undefined) {
        if (!noPidHandler) throw new KnetstatError('missing pid: knetstat-java <pid> (see --help)');
        process.exitCode = await noPidHandler(flags, cmd);
        return;
      }
      process.exitCode = await reportCommand(pid, flags);
    });
  registerAll(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitFor(err);
  }
}

/** One line on stderr, the documented exit code; a stack trace only for bugs, and only with KNETSTAT_DEBUG. */
export function exitFor(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0; // --help, --version
    process.stderr.write(`knetstat-java: ${err.message.replace(/^error: /, '')}\n`);
    return EXIT.USAGE;
  }
  if (err instanceof KnetstatError) {
    process.stderr.write(`knetstat-java: ${err.message}${err.remedy ? ` (${err.remedy})` : ''}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`knetstat-java: internal error: ${e?.message ?? String(err)}\n`);
  if (process.env.KNETSTAT_DEBUG) process.stderr.write(`${e?.stack}\n`);
  return EXIT.INTERNAL;
}

// Run when executed, not when imported by tests.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// No top-level await: the single executable's main script is CommonJS.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main(process.argv);
}
