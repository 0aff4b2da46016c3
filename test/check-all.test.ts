// check --all-jvms against several real JVMs in a private pid namespace (so
// "every JVM of the host" is exactly the test's own): a big one the tool
// spends a while on, one killed once the tool has begun reading the big one (a skipped
// suite, not a failure), one that breaks a rule, and one of another user
// (checked as root; not inspectable for a third user). JUnit validates against
// the schema, with a suite per JVM and rule; JSON is one document; the exit
// code sums the run (1 a rule failed anywhere, 3 only unknowns, 0, 2 bad input).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/cli.js';
import { AS_HOSTILE, HOSTILE_UID } from './helpers/hostile.js';
import { junitparser, xmllint, XSD } from './helpers/junit.js';
import { startJvm, type Jvm } from './helpers/jvm.js';
import { pidNamespace, pidNamespaceUnavailable, type PidNamespace } from './helpers/pidns.js';

const skip = pidNamespaceUnavailable();
if (skip) console.warn(`check-all.test.ts: skipped: ${skip}`);

const POLICY = {
  rules: [
    { name: 'close() never resets connections', match: { protocol: 'tcp' }, expect: { java: { not: ['setSoLinger(true, 0)'] } } },
    { name: 'listeners queue at least 50', match: { state: 'LISTEN' }, expect: { backlog: { min: 50 } } },
  ],
};
const PASSING = { rules: [{ name: 'listeners queue at least 1', match: { state: 'LISTEN' }, expect: { backlog: { min: 1 } } }] };

describe.skipIf(skip)('check --all-jvms', () => {
  let ns: PidNamespace;
  let work: string;
  let big: Jvm, victim: Jvm, breaker: Jvm, theirs: Jvm;
  const policy = (name: string, p: unknown) => {
    const f = join(work, name);
    writeFileSync(f, JSON.stringify(p));
    chmodSync(f, 0o644);
    return f;
  };

  beforeAll(async () => {
    ns = await pidNamespace();
    work = mkdtempSync(join(tmpdir(), 'speed-allj-'));
    chmodSync(work, 0o755);
    const inside = { wrapper: ns.enter };
    // Started in this order, so their pids (and the order the tool reads them in) ascend.
    big = await startJvm('ManySockets', ['1500', '4'], inside);
    victim = await startJvm('SocketLab', ['v:server'], inside);
    breaker = await startJvm('SocketLab', ['l:server:backlog=10', 'rst:client:soLinger=0'], inside);
    theirs = await startJvm('SocketLab', ['t:server'], { wrapper: [...ns.enter, ...AS_HOSTILE], jvmArgs: ['-XX:-UsePerfData'] });
  }, 120_000);
  afterAll(async () => {
    for (const j of [big, victim, breaker, theirs]) await j?.stop();
    await ns?.close();
    rmSync(work, { recursive: true, force: true });
  });

  /**
   * Runs the tool inside, stopped (strace injects SIGSTOP) at its first socket(): the capture of the first
   * JVM has begun, the list is made. Then `kill` (its pid inside) is killed, and the tool goes on.
   */
  async function runKilling(args: string[], kill: Jvm) {
    const log = join(work, 'strace.log');
    const strace = ['strace', '-f', '-qq', '-o', log, '-e', 'trace=socket', '-e', 'inject=socket:signal=SIGSTOP:when=1'];
    const p = spawn(ns.enter[0]!, [...ns.enter.slice(1), ...strace, process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
    let stdout = '', stderr = '';
    p.stdout!.on('data', (d) => { stdout += d; });
    p.stderr!.on('data', (d) => { stderr += d; });
    // 'close', not 'exit': all of its output read.
    const done = new Promise<number>((res) => p.once('close', (c) => res(c ?? -1)));
    let stopped: string | undefined;
    while (p.exitCode === null && !stopped) {
      try { stopped = /^(\d+)\s+--- stopped by SIGSTOP ---$/m.exec(readFileSync(log, 'utf8'))?.[1]; } catch { /* not yet */ }
      if (!stopped) await new Promise((r) => setTimeout(r, 5));
    }
    if (stopped) {
      const gone = new Promise<void>((res) => (kill.proc.exitCode !== null ? res() : kill.proc.once('exit', () => res())));
      ns.run(['kill', '-KILL', String(kill.pid)]);
      await gone;
      ns.run(['kill', '-CONT', stopped]);
    }
    return { code: await done, stdout, stderr, killed: stopped !== undefined };
  }

  it('JUnit: a suite per JVM and rule (pid, main class, host), the killed JVM a skipped suite, valid against the schema; exit 1', async () => {
    expect(big.pid).toBeLessThan(victim.pid);
    const out = join(work, 'all.xml');
    const r = await runKilling(['check', '--all-jvms', '--policy', policy('p.json', POLICY), '-f', 'junit', '-o', out], victim);
    expect(r.killed, 'the victim was killed while the tool was reading').toBe(true);
    expect(r.code, r.stderr).toBe(1);
    expect(xmllint(out).code, `schema ${XSD}: ${xmllint(out).stderr}`).toBe(0);
    const x = junitparser(out);
    const byName = new Map(x.suites.map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual([
      `pid ${big.pid} (ManySockets): close() never resets connections`, `pid ${big.pid} (ManySockets): listeners queue at least 50`,
      `pid ${breaker.pid} (SocketLab): close() never resets connections`, `pid ${breaker.pid} (SocketLab): listeners queue at least 50`,
      `pid ${theirs.pid} (SocketLab): close() never resets connections`, `pid ${theirs.pid} (SocketLab): listeners queue at least 50`,
      `pid ${victim.pid} (SocketLab)`,
    ].sort());
    for (const s of x.suites) {
      expect(s.properties.host).toBeTruthy();
      expect(s.properties.mainClass).toMatch(/^(ManySockets|SocketLab)$/);
      expect(s.name.startsWith(`pid ${s.properties.pid} (${s.properties.mainClass})`)).toBe(true);
    }
    const gone = byName.get(`pid ${victim.pid} (SocketLab)`)!;
    expect(gone.skipped).toBe(1);
    expect(gone.failures + gone.errors).toBe(0);
    expect(gone.cases[0]!.results[0]!.message).toMatch(/the JVM exited during the run/);
    // The breaker fails both rules; the big one and the other user's (checked as root) pass.
    expect(byName.get(`pid ${breaker.pid} (SocketLab): close() never resets connections`)!.failures).toBe(1);
    expect(byName.get(`pid ${breaker.pid} (SocketLab): listeners queue at least 50`)!.failures).toBe(1);
    for (const pid of [big.pid, theirs.pid]) for (const s of x.suites.filter((s) => s.properties.pid === String(pid))) expect(s.failures + s.errors, s.name).toBe(0);
    expect(byName.get(`pid ${big.pid} (ManySockets): listeners queue at least 50`)!.tests).toBe(150);
    expect(r.stderr).toMatch(new RegExp(`pid ${victim.pid} \\(SocketLab\\): skipped: the JVM exited during the run`));
    expect(r.stderr).toMatch(/check failed: 2 rule\(s\) failed on 1 of 4 JVM\(s\)/);
  });

  it('JSON: one document, a check per JVM; exit 0 when everything passes', () => {
    const r = ns.run([process.execPath, CLI, 'check', '--all-jvms', '--policy', policy('pass.json', PASSING), '-f', 'json', '-q'], { env: { ...process.env, CI: 'true' } });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.allJvms).toBe(true);
    expect(j.status).toBe('pass');
    expect(j.jvms.map((x: any) => x.pid)).toEqual([big.pid, breaker.pid, theirs.pid]);
    expect(j.counts).toEqual({ jvms: 3, passed: 3, failed: 0, unknown: 0, skipped: 0 });
    const t = j.jvms.find((x: any) => x.pid === theirs.pid);
    expect(t).toMatchObject({ outcome: 'checked', status: 'pass', mainClass: 'SocketLab', uid: HOSTILE_UID });
    expect(t.result.context.pid).toBe(theirs.pid);
    expect(t.result.rules[0].sockets).toHaveLength(1);
  });

  it('as a third user: the JVMs it may not read are not inspectable (unknown, exit 3), its own are checked', () => {
    const r = ns.run([...AS_HOSTILE, process.execPath, CLI, 'check', '--all-jvms', '--policy', policy('pass2.json', PASSING), '-f', 'json', '-q'], { env: { ...process.env, CI: 'true' } });
    expect(r.code, r.stderr).toBe(3);
    const j = JSON.parse(r.stdout);
    const outcome = Object.fromEntries(j.jvms.map((x: any) => [x.pid, x.outcome]));
    expect(outcome).toEqual({ [big.pid]: 'not-inspectable', [breaker.pid]: 'not-inspectable', [theirs.pid]: 'checked' });
    expect(j.jvms.find((x: any) => x.pid === big.pid).reason).toMatch(/^not inspectable: cannot list the open files of process \d+ \(owned by root\): permission denied/);
    expect(j.counts).toMatchObject({ passed: 1, unknown: 2, failed: 0 });
    expect(r.stderr).toMatch(/check incomplete: 2 of 3 JVM\(s\) could not be checked completely/);
    // JUnit: the two as errors of type not-inspectable, valid against the schema.
    const out = join(work, 'third.xml');
    const x = ns.run([...AS_HOSTILE, process.execPath, CLI, 'check', '--all-jvms', '--policy', join(work, 'pass2.json'), '-f', 'junit', '-q'], { env: { ...process.env, CI: 'true' } });
    expect(x.code).toBe(3);
    writeFileSync(out, x.stdout);
    expect(xmllint(out).code, xmllint(out).stderr).toBe(0);
    const suites = junitparser(out).suites;
    expect(suites.filter((s) => s.errors === 1).map((s) => s.name).sort()).toEqual([`pid ${big.pid} (ManySockets)`, `pid ${breaker.pid} (SocketLab)`].sort());
    expect(readFileSync(out, 'utf8')).toContain('type="not-inspectable"');
  });

  it('text: a check per JVM and the sums; bad input is exit 2 before anything is read', () => {
    const r = ns.run([process.execPath, CLI, 'check', '--all-jvms', '--policy', join(work, 'p.json'), '-q'], { env: { ...process.env, CI: 'true' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`knetstat-java check: pid ${breaker.pid} \\(java\\)`));
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^knetstat-java check --all-jvms on \S+, policy .*p\.json: 3 JVMs: 2 passed, 1 failed, 0 unknown, 0 skipped$/);
    writeFileSync(join(work, 'bad.json'), '{"rules": 5}');
    for (const args of [['--policy', join(work, 'bad.json')], ['--policy', join(work, 'p.json'), String(big.pid)], ['--policy', join(work, 'p.json'), '--snapshot', join(work, 'p.json')]]) {
      const b = ns.run([process.execPath, CLI, 'check', '--all-jvms', ...args, '-q']);
      expect(b.code, b.stderr).toBe(2);
      expect(b.stdout).toBe('');
      expect(b.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
