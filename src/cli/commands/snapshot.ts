// knetstat-java snapshot <pid> [-o FILE] [--redact]: the Capture as a file for a
// support ticket. knetstat-java render FILE: that file as a report, on any machine.
import type { Command } from 'commander';
import { parsePid } from '../../discover/process.js';
import { formats, renderCapture, renderer } from '../../render/index.js';
import { outputKind } from '../../render/terminal.js';
import { readSnapshot, renderSnapshot } from '../../snapshot/file.js';
import { redactCapture } from '../../snapshot/redact.js';
import { captureTarget, warnPartial, writeWarnings } from '../capturing.js';
import { EXIT } from '../exit.js';
import { addCaptureOptions, formatOption, outputOption, type CaptureFlags } from '../options.js';
import { writeOutput } from '../output.js';

export async function snapshotCommand(pidText: string, flags: CaptureFlags & { output?: string; redact?: boolean }): Promise<number> {
  const pid = parsePid(pidText);
  let cap = await captureTarget(pid, flags);
  if (flags.redact) cap = redactCapture(cap);
  await writeOutput(renderSnapshot(cap), flags.output, { as: 'json' });
  writeWarnings(cap.warnings);
  return warnPartial('snapshot', cap) ? EXIT.PARTIAL : EXIT.OK;
}

/** Reads the file only: no capture, no syscall on any process. Exit 3 when the snapshot itself was partial. */
export async function renderCommand(file: string, flags: { format: string; output?: string }): Promise<number> {
  const render = renderer(flags.format);
  const snap = readSnapshot(file);
  await writeOutput(renderCapture(render, snap.capture), flags.output, { as: outputKind(flags.format) });
  return warnPartial('snapshot', snap.capture, true) ? EXIT.PARTIAL : EXIT.OK;
}

export function registerSnapshot(program: Command): void {
  program.enablePositionalOptions();
  addCaptureOptions(program
    .command('snapshot')
    .description('write what the tool reads from a JVM to a file (render it anywhere with `render`)')
    .argument('<pid>', 'process id of the JVM')
    .option('-o, --output <file>', 'snapshot file (created only when complete; default: stdout)')
    .option('--redact', 'hide addresses (not loopback), hostname, user and command-line arguments (see README "Snapshots")'))
    .action(async (pid: string, flags: CaptureFlags & { output?: string; redact?: boolean }) => {
      process.exitCode = await snapshotCommand(pid, flags);
    });
  program
    .command('render')
    .description('render a snapshot file as a report (no root, no JVM needed)')
    .argument('<file>', 'snapshot written by `knetstat-java snapshot`')
    .addOption(formatOption(formats()))
    .addOption(outputOption())
    .action(async (file: string, flags: { format: string; output?: string }) => {
      process.exitCode = await renderCommand(file, flags);
    });
}
