// sources/heap.ts: a large capture freezes V8's young generation (both the
// pidfd and the bpf source call it). Checked on V8 itself, in a child Node:
// survivors piling up make the new space grow unless it is frozen.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

// The module as JavaScript for the child (with src/builtins.ts, through which it loads node:v8): no build needed.
const work = mkdtempSync(join(tmpdir(), 'speed-heap-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const HEAP = join(work, 'heap.mjs');
writeFileSync(HEAP, buildSync({ entryPoints: [join(resolve(import.meta.dirname, '..', '..'), 'src', 'sources', 'heap.ts')], bundle: true, platform: 'node', format: 'esm', write: false }).outputFiles[0]!.text);

/** New space size (bytes) after keeping many small objects alive, having told heap.ts about `sockets` sockets. */
function newSpaceAfterSurvivors(sockets: number): number {
  const script = `
    const { getHeapSpaceStatistics } = await import('node:v8');
    const { leanYoungGeneration } = await import(${JSON.stringify(HEAP)});
    leanYoungGeneration(${sockets});
    const kept = [];
    for (let i = 0; i < 400000; i++) kept.push({ i, s: 'x' + i });
    const ns = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(ns.space_size, kept.length);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return Number(r.stdout.split(' ')[0]);
}

describe('the young generation of a large capture', () => {
  it('stops growing from 2,000 sockets on; below that V8 grows it as usual', () => {
    const small = newSpaceAfterSurvivors(1999);
    const large = newSpaceAfterSurvivors(2000);
    expect(large).toBeLessThan(small);
    expect(large).toBeLessThanOrEqual(8 * 2 ** 20);
  });
});
