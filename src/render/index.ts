// The renderers, one table: format name -> a pure function of the Report
// (nothing read from the host it runs on) that yields the output in chunks.
// A renderer that streams reads report.sockets once, in order, keeping none:
// renderCapture() then hands it each socket as it is analysed, so a
// 50,000-socket report is never held whole. To add a format: a module here
// exporting its function, and a row below.
import { UsageError } from '../errors.js';
import { analyze, analyzeStream } from '../java/analyze.js';
import type { Capture, Report, ReportStream } from '../model/types.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderKnetstat } from './knetstat.js';
import { renderText } from './text.js';

export type Renderer =
  | { readonly streams: true; readonly render: (r: ReportStream) => Iterable<string> }
  | { readonly streams: false; readonly render: (r: Report) => Iterable<string> };

/** In the order --help lists them. */
const RENDERERS: Record<string, Renderer> = {
  text: { streams: false, render: renderText },
  json: { streams: true, render: renderJson },
  junit: { streams: false, render: renderJunit },
  knetstat: { streams: false, render: renderKnetstat },
};

export function formats(): string[] {
  return Object.keys(RENDERERS);
}

export function renderer(name: string): Renderer {
  const r = RENDERERS[name];
  if (!r) throw new UsageError(`unknown format '${name}' (choose one of: ${formats().join(', ')})`);
  return r;
}

/** A capture analysed and rendered: streamed through a renderer that can, analysed whole for the others. */
export function renderCapture(r: Renderer, capture: Capture): Iterable<string> {
  return r.streams ? r.render(analyzeStream(capture)) : r.render(analyze(capture));
}
