// The registry of sources: name -> a new Source. --source lists them in this
// order; `auto` tries AUTO_ORDER (richest first) and falls back to procfs
// (capture.ts). To add a source: a module here implementing Source
// (types.ts), its name in SOURCE_NAMES (model/types.ts), a row below, and its
// place in AUTO_ORDER if auto should try it.
import type { SourceName } from '../model/types.js';
import { BpfSource } from './bpf.js';
import { KnetstatSource } from './knetstat.js';
import { PidfdSource } from './pidfd.js';
import { ProcfsSource } from './procfs.js';
import { SockdiagSource } from './sockdiag.js';
import type { Source } from './types.js';

const factories: Record<SourceName, () => Source> = {
  bpf: () => new BpfSource(),
  pidfd: () => new PidfdSource(),
  knetstat: () => new KnetstatSource(),
  sockdiag: () => new SockdiagSource(),
  procfs: () => new ProcfsSource(),
};

export { SOURCE_NAMES } from '../model/types.js';

/** What auto tries, in turn, until one is available; procfs, which needs nothing, is the fallback. */
export const AUTO_ORDER: SourceName[] = ['bpf', 'pidfd', 'knetstat', 'sockdiag'];

export function makeSource(name: SourceName): Source | undefined {
  return factories[name]?.();
}
