// The renderers, one table: format name -> a pure function of the Report
// (nothing read from the host it runs on) that yields the output in chunks.
// A renderer that streams reads report.sockets once, in order, keeping none:
// renderCapture() (capture.ts) then hands it each socket as it is analysed,
// so a 50,000-socket report is never held whole. Each renderer's module is loaded
// when it is chosen (renderer()), not when the table is: the command line
// needs only the names. To add a format: a module here exporting its
// function, and a row below.
import { UsageError } from '../errors.js';
import type { Report, ReportStream } from '../model/types.js';

export type Renderer =
  | { readonly streams: true; readonly render: (r: ReportStream) => Iterable<string> }
  | { readonly streams: false; readonly render: (r: Report) => Iterable<string> };

type Row =
  | { readonly streams: true; readonly load: () => Promise<(r: ReportStream) => Iterable<string>> }
  | { readonly streams: false; readonly load: () => Promise<(r: Report) => Iterable<string>> };

/** In the order --help lists them. */
const RENDERERS: Record<string, Row> = {
  text: { streams: false, load: async () => (await import('./text.js')).renderText },
  json: { streams: true, load: async () => (await import('./json.js')).renderJson },
  junit: { streams: false, load: async () => (await import('./junit.js')).renderJunit },
  knetstat: { streams: false, load: async () => (await import('./knetstat.js')).renderKnetstat },
};

export function formats(): string[] {
  return Object.keys(RENDERERS);
}

/** Whether the format streams (known without loading its module). */
export function streams(name: string): boolean {
  return RENDERERS[name]?.streams === true;
}

export async function renderer(name: string): Promise<Renderer> {
  const r = RENDERERS[name];
  if (!r) throw new UsageError(`unknown format '${name}' (choose one of: ${formats().join(', ')})`);
  return r.streams ? { streams: true, render: await r.load() } : { streams: false, render: await r.load() };
}
