// src/cleanup.ts on real signals: synchronous undo steps (a temporary output
// file) run first and at once; asynchronous ones (stopping --observe's
// recording) after them, awaited at most their bound; a second signal ends the
// wait; the tool always dies of the signal. Children run the built module
// (test/helpers/interrupt-child.mjs).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, WORK } from './helpers/jvm.js';

const dir = mkdtempSync(join(WORK, 'cleanup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

interface Child { exit: Promise<{ code: number | null; signal: string | null }>; kill: (s: NodeJS.Signals) => void; tmp: string; markers: () => string[] }

async function child(mode: 'finishes' | 'hangs' | 'throws' | 'none', boundMs: number): Promise<Child> {
  const tmp = join(dir, `tmp-${++n}`), markers = join(dir, `markers-${n}`);
  const p = spawn(process.execPath, [join(ROOT, 'test', 'helpers', 'interrupt-child.mjs'), mode, tmp, markers, String(boundMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exit = new Promise<{ code: number | null; signal: string | null }>((r) => p.on('exit', (code, signal) => r({ code, signal })));
  await new Promise<void>((r, j) => { p.stdout!.on('data', (d) => { if (String(d).includes('READY')) r(); }); p.on('exit', () => j(new Error('child exited before READY'))); });
  return { exit, kill: (s) => p.kill(s), tmp, markers: () => (existsSync(markers) ? readFileSync(markers, 'utf8').trim().split('\n') : []) };
}

async function until(f: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('interrupted with undo steps pending', () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s: the temporary file goes first, the asynchronous step runs to its end, then death by the signal', async (sig) => {
    const c = await child('finishes', 60_000);
    c.kill(sig);
    expect(await c.exit).toEqual({ code: null, signal: sig });
    expect(existsSync(c.tmp)).toBe(false);
    expect(c.markers()).toEqual(['sync', `async-start tmp-gone ${sig}`, 'async-done']);
  });

  it('an asynchronous step that never ends is waited for at most its bound', async () => {
    const c = await child('hangs', 500);
    c.kill('SIGINT');
    expect(await c.exit).toEqual({ code: null, signal: 'SIGINT' });
    expect(existsSync(c.tmp)).toBe(false);
    expect(c.markers()).toEqual(['sync', 'async-start tmp-gone SIGINT']);
  });

  it('a second signal ends the wait at once', { timeout: 60_000 }, async () => {
    const c = await child('hangs', 600_000); // a wait this test would time out on
    c.kill('SIGTERM');
    await until(() => c.markers().length === 2);
    c.kill('SIGINT');
    const e = await c.exit;
    expect(e.signal === 'SIGINT' || e.signal === 'SIGTERM').toBe(true);
    expect(existsSync(c.tmp)).toBe(false);
  });

  it('a step that throws still ends in death by the signal; the file is gone', async () => {
    const c = await child('throws', 60_000);
    c.kill('SIGINT');
    expect(await c.exit).toEqual({ code: null, signal: 'SIGINT' });
    expect(existsSync(c.tmp)).toBe(false);
    expect(c.markers()).toEqual(['sync', 'async-start tmp-gone SIGINT']);
  });

  it('with only a synchronous step, as before: undone, then death by the signal', async () => {
    const c = await child('none', 0);
    c.kill('SIGTERM');
    expect(await c.exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(c.markers()).toEqual(['sync']);
  });
});
