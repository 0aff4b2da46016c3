// The registry of sources, in the order auto tries them (richest first).
import type { SourceName } from '../model/types.js';
import type { Source } from './types.js';
import { BpfSource } from './bpf.js';
import { PidfdSource } from './pidfd.js';
import { ProcfsSource } from './procfs.js';
import { KnetstatSource } from './knetstat.js';
import { SockdiagSource } from './sockdiag.js';

const factories: Partial<Record<SourceName, () => Source>> = {
  bpf: () => new BpfSource(),
  pidfd: () => new PidfdSource(),
  knetstat: () => new KnetstatSource(),
  sockdiag: () => new SockdiagSource(),
  procfs: () => new ProcfsSource(),
};

export const SOURCE_NAMES: SourceName[] = ['bpf', 'pidfd', 'knetstat', 'sockdiag', 'procfs'];

export function registerSource(name: SourceName, make: () => Source): void {
  factories[name] = make;
}

export function makeSource(name: SourceName): Source | undefined {
  return factories[name]?.();
}
