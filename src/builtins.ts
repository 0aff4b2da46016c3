// Node's own modules whose loading costs a start, loaded at their first use:
// child_process, net and v8 bring Node's streams, net, dgram, tty and the heap
// utilities with them (~6 ms of a report that spawns nothing, validates no
// address and holds no large capture). test/unit/architecture.test.ts counts
// a builtin('node:x') call as an import of node:x.
import { createRequire } from 'node:module';

export interface Builtins {
  'node:child_process': typeof import('node:child_process');
  'node:net': typeof import('node:net');
  'node:v8': typeof import('node:v8');
}

let requireHere: NodeJS.Require | undefined;

/** Node's module, loaded on the first call. */
export function builtin<K extends keyof Builtins>(name: K): Builtins[K] {
  return (requireHere ??= createRequire(import.meta.url))(name) as Builtins[K];
}
