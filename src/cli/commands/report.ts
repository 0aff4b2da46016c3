// knetstat-java <pid>: capture, analyse, render. A renderer that streams
// (JSON) gets each socket as it is analysed, so a 50,000-socket report is
// never held whole.
import { parsePid } from '../../discover/process.js';
import { renderCapture } from '../../render/capture.js';
import { renderer } from '../../render/index.js';
import { outputKind } from '../../render/terminal.js';
import { captureTarget, warnPartial, writeWarnings } from '../capturing.js';
import { EXIT } from '../exit.js';
import type { ReportFlags } from '../options.js';
import { writeOutput } from '../output.js';

/** Returns the exit code. */
export async function reportCommand(pidText: string, flags: ReportFlags): Promise<number> {
  const pid = parsePid(pidText);
  const render = await renderer(flags.format);
  const cap = await captureTarget(pid, flags);
  await writeOutput(renderCapture(render, cap), flags.output, { as: outputKind(flags.format) });
  // The text report prints its warnings in its header.
  if (flags.format !== 'text') writeWarnings(cap.warnings);
  return warnPartial('report', cap) ? EXIT.PARTIAL : EXIT.OK;
}
