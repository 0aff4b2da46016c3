// Format name -> renderer. Every renderer is a pure function of the Report
// that yields chunks of output.
import { UsageError } from '../errors.js';
import type { Report } from '../model/types.js';
import { renderJson } from './json.js';
import { renderText } from './text.js';

export type Renderer = (r: Report) => Iterable<string>;

const renderers: Record<string, Renderer> = {
  text: renderText,
  json: renderJson,
};

export function registerRenderer(name: string, r: Renderer): void {
  renderers[name] = r;
}

export function formats(): string[] {
  return Object.keys(renderers);
}

export function renderer(name: string): Renderer {
  const r = renderers[name];
  if (!r) throw new UsageError(`unknown format '${name}' (choose one of: ${formats().join(', ')})`);
  return r;
}
