// The young generation of a large capture, for every source that holds one.
import { builtin } from '../builtins.js';

/**
 * A capture of thousands of sockets keeps every RawSocket until the report is
 * written, so V8 sees its scavenges' survivors pile up and doubles its young
 * generation, up to 2 x 16 MB, most of it garbage between scavenges (~30 MB
 * of the tool's peak RSS at 20,000 sockets, ~40 MB at 10,000 through the bpf
 * source, whose capture is too quick for the generation to have grown before
 * the analysis does it). From this many sockets on, the young generation stops
 * growing where it is (in the CLI by then 2 x 4 MB through the pidfd source,
 * 2 x 2 MB through the bpf source; --trace-gc-verbose): more, cheaper scavenges,
 * and since nothing per socket outlives its socket's analysis except the
 * RawSocket itself, no more promotion (and faster: a semi-space capped at 1 MB,
 * or of 4, 8 or 16 MB from the start, is slower at 19,500 sockets through bpf,
 * bench/results.md; likely because a small one stays in the CPU's caches).
 * Set at run time on purpose: V8 raises a start-up --semi-space-growth-factor
 * below 2 to 2.
 */
const LEAN_YOUNG_GENERATION_FROM = 2000;
let fixed = false;

/** Called by a source with the number of sockets it is about to hold. */
export function leanYoungGeneration(sockets: number): void {
  if (fixed || sockets < LEAN_YOUNG_GENERATION_FROM) return;
  fixed = true;
  builtin('node:v8').setFlagsFromString('--semi-space-growth-factor=1');
}
