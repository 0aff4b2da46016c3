// check --all-jvms's result without a JVM (check/alljvms.ts and its renderers):
// what a run comes to (a failure anywhere outranks unknowns, a skipped JVM
// counts for nothing), the JUnit document (a suite per JVM and rule, the
// skipped and not-inspectable ones, valid against the schema), and the text
// (the target's main class shown safe for a terminal). The run itself, on real
// JVMs: test/check-all.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkedJvm, exitedJvm, summarize, uninspectableJvm, type JvmCheck } from '../../src/check/alljvms.js';
import { evaluate } from '../../src/check/evaluate.js';
import { parsePolicy } from '../../src/check/policy.js';
import { renderAllJvmsJson, renderAllJvmsText } from '../../src/check/render.js';
import { renderAllJvmsJunit } from '../../src/check/junit.js';
import { analyze } from '../../src/java/analyze.js';
import { parseSnapshot } from '../../src/snapshot/file.js';
import { junitparser, xmllint } from '../helpers/junit.js';
import { ROOT } from '../helpers/root.js';

const snap = (f: string) => parseSnapshot(readFileSync(join(ROOT, 'samples', 'snapshots', f)), f).capture;
const policy = { ...parsePolicy(readFileSync(join(ROOT, 'samples', 'policies', 'example.json'), 'utf8'), 'example.json'), origin: 'example.json' };
const meta = { origin: 'example.json', hostname: 'h1', startedAt: '2026-01-01T00:00:00.000Z', tool: { name: 'knetstat-java', version: '9.9.9' } };
const check = (f: string) => evaluate(analyze(snap(f)), policy);
const work = mkdtempSync(join(tmpdir(), 'speed-alljvms-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('what an --all-jvms run comes to', () => {
  const pass = { ...check('servers.json'), status: 'pass' as const };
  const fail = check('clients.json');
  it('a rule failed anywhere: fail, whatever else', () => {
    expect(fail.status).toBe('fail');
    const r = summarize([checkedJvm({ pid: 1 }, pass), checkedJvm({ pid: 2 }, fail), uninspectableJvm({ pid: 3 }, 'not inspectable: x'), exitedJvm({ pid: 4 }, 'gone')], meta);
    expect(r.status).toBe('fail');
    expect(r.counts).toEqual({ jvms: 4, passed: 1, failed: 1, unknown: 1, skipped: 1 });
  });
  it('no failure but a JVM not inspectable: unknown; only passes and skips: pass; nothing at all: pass', () => {
    expect(summarize([checkedJvm({ pid: 1 }, pass), uninspectableJvm({ pid: 3 }, 'x')], meta).status).toBe('unknown');
    expect(summarize([checkedJvm({ pid: 1 }, pass), exitedJvm({ pid: 4 }, 'gone')], meta).status).toBe('pass');
    expect(summarize([], meta)).toMatchObject({ status: 'pass', counts: { jvms: 0 } });
  });
});

describe('its outputs', () => {
  const jvms: JvmCheck[] = [
    checkedJvm({ pid: 10, mainClass: 'com.example.Orders', user: 'app', uid: 1000 }, check('clients.json')),
    checkedJvm({ pid: 11, mainClass: 'Srv' }, check('servers.json')),
    exitedJvm({ pid: 12, mainClass: 'Gone' }, 'the JVM exited during the run'),
    uninspectableJvm({ pid: 13, mainClass: 'evil\x1b[2JMain', user: 'mallory' }, 'not inspectable: permission denied'),
  ];
  const r = summarize(jvms, meta);

  it('JUnit: a suite per checked JVM and rule, one per JVM not checked; valid against the schema', () => {
    const f = join(work, 'all.xml');
    writeFileSync(f, [...renderAllJvmsJunit(r)].join(''));
    expect(xmllint(f).code, xmllint(f).stderr).toBe(0);
    const x = junitparser(f);
    const rules = policy.rules.length;
    expect(x.suites).toHaveLength(2 * rules + 2);
    // (The pid property is the capture's: in a real run the same as the listed one; here the snapshot's.)
    const orders = x.suites.filter((s) => s.name.startsWith('pid 10 '));
    expect(orders.map((s) => s.name)).toEqual(policy.rules.map((p) => `pid 10 (com.example.Orders): ${p.name}`));
    for (const s of orders) expect(s.properties).toMatchObject({ mainClass: 'com.example.Orders', host: jvms[0]!.result!.context.hostname, policy: 'example.json' });
    const gone = x.suites.find((s) => s.properties.pid === '12')!;
    expect(gone).toMatchObject({ name: 'pid 12 (Gone)', tests: 1, skipped: 1, failures: 0, errors: 0 });
    expect(gone.properties).toMatchObject({ host: 'h1', mainClass: 'Gone', policy: 'example.json' });
    const denied = x.suites.find((s) => s.properties.pid === '13')!;
    expect(denied).toMatchObject({ tests: 1, errors: 1, failures: 0 });
    expect(denied.properties.user).toBe('mallory');
    expect(denied.cases[0]!.results[0]).toMatchObject({ kind: 'Error', message: 'not inspectable: permission denied' });
    expect(readFileSync(f, 'utf8')).not.toContain('\x1b');
  });

  it('JSON: one document, a check per JVM', () => {
    const j = JSON.parse([...renderAllJvmsJson(r)].join(''));
    expect(j).toMatchObject({ allJvms: true, status: 'fail', origin: 'example.json', hostname: 'h1' });
    expect(j.jvms.map((x: JvmCheck) => [x.pid, x.outcome, x.status])).toEqual([[10, 'checked', 'fail'], [11, 'checked', jvms[1]!.status], [12, 'exited', 'skip'], [13, 'not-inspectable', 'unknown']]);
    expect(j.jvms[0].result.rules).toHaveLength(policy.rules.length);
  });

  it('text: each checked JVM\'s check, a line for the others, the sums last; the main class made safe', () => {
    const t = [...renderAllJvmsText(r)].join('');
    expect(t).toContain('SKIP    pid 12 (Gone): the JVM exited during the run\n');
    expect(t).toContain('UNKNOWN pid 13 (evil\\e[2JMain) of mallory: not inspectable: permission denied\n');
    expect(t).not.toContain('\x1b');
    expect(t.trimEnd().split('\n').at(-1)).toBe('knetstat-java check --all-jvms on h1, policy example.json: 4 JVMs: ' +
      `${r.counts.passed} passed, ${r.counts.failed} failed, 1 unknown, 1 skipped`);
  });
});
