// knetstat-java snapshot <pid> [-o FILE] [--redact]: the Capture as a file for a
// support ticket. knetstat-java render FILE: that file as a report, on any machine.
import type { Command } from 'commander';
import { capture } from '../../capture.js';
import { parsePid } from '../../discover/process.js';
import { EXIT } from '../../errors.js';
import { analyze } from '../../java/analyze.js';
import { renderer } from '../../render/index.js';
import '../../render/junit.js';
import { readSnapshot, renderSnapshot } from '../../snapshot/file.js';
import { redactCapture } from '../../snapshot/redact.js';
import { formatOption, sourceOption, type ReportFlags } from '../main.js';
import { partialWhy, stderrLine, warn, writeOutput } from '../output.js';
import { HUMAN_FORMATS, outputKind, terminalSafe } from '../../render/terminal.js';
import { progressReporter } from '../progress.js';

export async function snapshotCommand(pidText: string, flags: ReportFlags & { redact?: boolean }): Promise<number> {
  const pid = parsePid(pidText);
  const progress = progressReporter(flags.quiet);
  let cap;
  try {
    cap = await capture(pid, { source: flags.source, any: flags.any, progress: progress.update, probeJdk: flags.probeJdk });
  } finally {
    progress.stop();
  }
  if (flags.redact) cap = redactCapture(cap);
  await writeOutput(renderSnapshot(cap), flags.output, { as: 'json' });
  for (const w of cap.warnings) warn(w);
  if (cap.partial) {
    stderrLine(`partial snapshot: ${partialWhy(cap)}`);
    return EXIT.PARTIAL;
  }
  return EXIT.OK;
}

/** Reads the file only: no capture, no syscall on any process. Exit 3 when the snapshot itself was partial. */
export async function renderCommand(file: string, flags: { format: string; output?: string }): Promise<number> {
  const render = renderer(flags.format);
  const snap = readSnapshot(file);
  const report = analyze(snap.capture);
  await writeOutput(render(HUMAN_FORMATS.has(flags.format) ? terminalSafe(report) : report), flags.output, { as: outputKind(flags.format) });
  if (snap.capture.partial) {
    stderrLine(`partial snapshot: ${partialWhy(snap.capture, 'at capture time')}`);
    return EXIT.PARTIAL;
  }
  return EXIT.OK;
}

export function registerSnapshot(program: Command): void {
  program.enablePositionalOptions();
  program
    .command('snapshot')
    .description('write what the tool reads from a JVM to a file (render it anywhere with `render`)')
    .argument('<pid>', 'process id of the JVM')
    .option('-o, --output <file>', 'snapshot file (created only when complete; default: stdout)')
    .option('--redact', 'hide addresses (not loopback), hostname, user and command-line arguments (see README "Snapshots")')
    .addOption(sourceOption())
    .option('--any', 'do not warn when the process is not a JVM')
    .option('-q, --quiet', 'no progress on stderr')
    .option('--probe-jdk', "measure the JDK's own defaults from the target's JDK")
    .action(async (pid: string, flags: ReportFlags & { redact?: boolean }) => {
      process.exitCode = await snapshotCommand(pid, flags);
    });
  program
    .command('render')
    .description('render a snapshot file as a report (no root, no JVM needed)')
    .argument('<file>', 'snapshot written by `knetstat-java snapshot`')
    .addOption(formatOption())
    .option('-o, --output <file>', 'write the report to a file (created only when complete)')
    .action(async (file: string, flags: { format: string; output?: string }) => {
      process.exitCode = await renderCommand(file, flags);
    });
}
