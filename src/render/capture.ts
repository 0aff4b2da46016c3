// A capture analysed and rendered: streamed through a renderer that can (each
// socket analysed and written in turn), analysed whole for the others. Apart
// from the renderer table (index.ts), so that the command line, which needs
// only the format names, does not load the analysis.
import { analyze, analyzeStream } from '../java/analyze.js';
import type { Capture } from '../model/types.js';
import type { Renderer } from './index.js';

export function renderCapture(r: Renderer, capture: Capture): Iterable<string> {
  return r.streams ? r.render(analyzeStream(capture)) : r.render(analyze(capture));
}
