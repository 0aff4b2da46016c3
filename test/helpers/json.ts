// The JSON report as JSON.stringify lays it out: what render/json.ts's writer
// must produce, byte for byte, whole or streamed.
import { expect } from 'vitest';
import { analyze, analyzeStream } from '../../src/java/analyze.js';
import { renderJson, socketJson } from '../../src/render/json.js';
import type { Capture, Report, ReportSocket } from '../../src/model/types.js';

export const join_ = (chunks: Iterable<string>) => { let s = ''; for (const c of chunks) s += c; return s; };

/** The report as JSON.stringify lays out each socket: the text renderJson must produce. */
export function referenceJson(r: Report, sockets: ReportSocket[] = r.sockets): string {
  // The report's fields before its sockets, as the streaming writer opens the document.
  const empty = join_(renderJson({ ...r, sockets: [] }, 'cached'));
  const opening = empty.slice(0, -']\n}\n'.length);
  const body = sockets.map((s) => `\n    ${JSON.stringify([[socketJson(s)]], null, 2).slice(10, -6)}`).join(',');
  return `${opening}${body}${sockets.length ? '\n  ' : ''}]\n}\n`;
}

/** JSON renderings of one capture that must all be the same text: whole, and streamed as the CLI does. */
export function expectSameJson(cap: Capture): string {
  const whole = analyze(cap);
  const text = join_(renderJson(whole));
  expect(text).toBe(referenceJson(whole));
  expect(join_(renderJson(analyzeStream(cap)))).toBe(text);
  // Both ways of writing sockets, whichever the count picks.
  for (const how of ['native', 'cached'] as const) expect(join_(renderJson(analyzeStream(cap), how)), how).toBe(text);
  expect(JSON.parse(text).sockets).toHaveLength(cap.sockets.length);
  return text;
}
