// knetstat-java snapshot <pid> [-o FILE] [--redact]: the Capture as a file for a
// support ticket. knetstat-java render FILE: that file as a report, on any machine.
import { parsePid } from '../../discover/process.js';
import { renderCapture } from '../../render/capture.js';
import { renderer } from '../../render/index.js';
import { outputKind } from '../../render/terminal.js';
import { readSnapshot, renderSnapshot } from '../../snapshot/file.js';
import { redactCapture } from '../../snapshot/redact.js';
import { captureTarget, warnPartial, writeWarnings } from '../capturing.js';
import { EXIT } from '../exit.js';
import type { CaptureFlags } from '../options.js';
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
  const render = await renderer(flags.format);
  const snap = readSnapshot(file);
  await writeOutput(renderCapture(render, snap.capture), flags.output, { as: outputKind(flags.format) });
  return warnPartial('snapshot', snap.capture, true) ? EXIT.PARTIAL : EXIT.OK;
}
