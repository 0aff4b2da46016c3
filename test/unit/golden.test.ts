// Golden output: every sample snapshot rendered in every format, and checked
// against every sample policy in every check format, through the commands
// themselves (in process: what `knetstat-java render` and `check --snapshot`
// write to stdout and stderr, and their exit codes). The bytes are pinned in
// test/golden/; a change to them is a change of behaviour and gets a commit of
// its own saying why. UPDATE_GOLDEN=1 rewrites the files.
//
// Volatile fields: none, on purpose. A rendered snapshot names the tool that
// captured it (capture.tool) and when (capture.capturedAt), never the tool
// that renders it or the clock; the last test renders under a clock set 20
// years ahead to keep it so. Paths are given relative to the repository (the
// check outputs name the snapshot and the policy as given).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { renderCommand } from '../../src/cli/commands/snapshot.js';
import { checkCommand } from '../../src/cli/commands/check.js';
import { xmllint } from '../helpers/junit.js';
import { ROOT } from '../helpers/root.js';

const GOLDEN = join(ROOT, 'test', 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const SNAPSHOTS = readdirSync(join(ROOT, 'samples', 'snapshots')).filter((f) => f.endsWith('.json')).sort();
const POLICIES = readdirSync(join(ROOT, 'samples', 'policies')).filter((f) => f.endsWith('.json')).sort();
const RENDER_FORMATS = ['text', 'json', 'junit', 'knetstat'];
const CHECK_FORMATS = ['text', 'json', 'junit'];

interface Case {
  /** File under test/golden/ holding stdout. */
  name: string;
  run: (output: string) => Promise<number>;
}

const cases: Case[] = [];
for (const snap of SNAPSHOTS) {
  const file = `samples/snapshots/${snap}`;
  const base = snap.replace(/\.json$/, '');
  for (const format of RENDER_FORMATS) {
    cases.push({ name: `render/${base}.${format}`, run: (output) => renderCommand(file, { format, output }) });
  }
  for (const pol of POLICIES) {
    for (const format of CHECK_FORMATS) {
      cases.push({
        name: `check/${base}--${pol.replace(/\.json$/, '')}.${format}`,
        run: (output) => checkCommand(undefined, { snapshot: file, policy: `samples/policies/${pol}`, format, output, source: 'auto' }),
      });
    }
  }
}

interface Outcome { exit: number; stderr: string; stdout: string }

let tmp: string;
const cwd = process.cwd();
beforeAll(() => {
  process.chdir(ROOT);
  tmp = mkdtempSync(join(tmpdir(), 'knj-golden-'));
});
afterAll(() => {
  process.chdir(cwd);
  rmSync(tmp, { recursive: true, force: true });
});

async function run(c: Case): Promise<Outcome> {
  const out = join(tmp, c.name.replaceAll('/', '_'));
  rmSync(out, { force: true });
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  try {
    const exit = await c.run(out);
    return { exit, stderr, stdout: readFileSync(out, 'utf8') };
  } finally {
    spy.mockRestore();
  }
}

/** Exit codes and stderr of every case, in one file: test/golden/outcomes.json. */
const OUTCOMES = join(GOLDEN, 'outcomes.json');
const outcomes: Record<string, { exit: number; stderr: string }> = existsSync(OUTCOMES) ? JSON.parse(readFileSync(OUTCOMES, 'utf8')) : {};
const seen: Record<string, { exit: number; stderr: string }> = {};

describe('golden output of render and check --snapshot on samples/', () => {
  it('has a case for every snapshot, format and policy', () => {
    expect(SNAPSHOTS.length).toBeGreaterThanOrEqual(3);
    expect(POLICIES.length).toBeGreaterThanOrEqual(2);
    expect(cases.length).toBe(SNAPSHOTS.length * (RENDER_FORMATS.length + POLICIES.length * CHECK_FORMATS.length));
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    const got = await run(c);
    const file = join(GOLDEN, name);
    seen[name] = { exit: got.exit, stderr: got.stderr };
    if (UPDATE) {
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, got.stdout);
      return;
    }
    expect(existsSync(file), `${file} missing: UPDATE_GOLDEN=1 writes it`).toBe(true);
    expect(got.stdout).toBe(readFileSync(file, 'utf8'));
    expect({ exit: got.exit, stderr: got.stderr }).toEqual(outcomes[name]);
  });

  it('exit codes and stderr', () => {
    if (UPDATE) {
      const sorted = Object.fromEntries(Object.entries(seen).sort(([a], [b]) => a.localeCompare(b)));
      writeFileSync(OUTCOMES, `${JSON.stringify(sorted, null, 2)}\n`);
    }
    else expect(Object.keys(outcomes).sort()).toEqual(cases.map((c) => c.name).sort());
  });

  it('every JUnit output validates against junit-10.xsd (xmllint), the observed sample\'s soTimeout failures and unknowns included', () => {
    const junit = cases.filter((c) => c.name.endsWith('.junit'));
    expect(junit.some((c) => c.name.startsWith('check/timeouts-observed--'))).toBe(true);
    for (const c of junit) {
      const v = xmllint(join(GOLDEN, c.name));
      expect(v.code, `${c.name}: ${v.stderr}`).toBe(0);
    }
  });

  it('depends on neither the clock nor the rendering tool', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2046-01-01T00:00:00Z') });
    try {
      for (const c of cases.filter((x) => /\.(json|junit|text)$/.test(x.name)).slice(0, 6)) {
        expect((await run(c)).stdout, c.name).toBe(readFileSync(join(GOLDEN, c.name), 'utf8'));
      }
    } finally {
      vi.useRealTimers();
    }
  });
});
