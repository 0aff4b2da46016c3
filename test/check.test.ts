// knetstat-java check: policies and --expect against a real JVM (SocketLab),
// exit codes 0/1/2/3, failure messages in Java terms, and JUnit output that CI
// tools read with the same counts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJvm, type Jvm } from './helpers/jvm.js';
import { runCli } from './helpers/cli.js';
import { junitparser, xmllint } from './helpers/junit.js';

let jvm: Jvm;
let dir: string;
const S = (id: string) => jvm.ready.sockets[id];
const ADDR = String.raw`(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\])`;

function policyFile(name: string, doc: unknown): string {
  const f = join(dir, name);
  writeFileSync(f, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return f;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'knetstat-check-'));
  jvm = await startJvm('SocketLab', [
    'db:client:keepAlive,tcpNoDelay',
    'slow:client:tcpNoDelay',
    'big:server:backlog=200',
    'rst:client:soLinger=0',
    'u:udp',
  ]);
});
afterAll(async () => { await jvm?.stop(); });

describe('check <pid> --policy', () => {
  let policy: string;
  let json: any;
  beforeAll(() => {
    policy = policyFile('policy.json', {
      rules: [
        { name: 'db keeps alive', match: { remotePort: S('db').remotePort }, expect: { SO_KEEPALIVE: 1, TCP_NODELAY: true } },
        { name: 'slow keeps alive', match: { remotePort: S('slow').remotePort, role: 'connected' }, expect: { SO_KEEPALIVE: 1 } },
        { name: 'listeners have room', match: { state: 'LISTEN' }, expect: { backlog: { min: 128 } } },
        { name: 'no RST on close', match: { protocol: 'tcp' }, expect: { java: { not: ['setSoLinger(true, 0)'] } } },
        { name: 'nothing on port 1', match: { localPort: 1 }, expect: { SO_KEEPALIVE: 1 } },
        { name: 'must have port 1', match: { remotePort: 1 }, expect: { SO_KEEPALIVE: 1 }, required: true },
        { name: 'udp buffers', match: { role: 'udp' }, expect: { SO_RCVBUF: { min: 1024, max: 1 << 30 }, SO_LINGER: false } },
      ],
    });
    const r = runCli(['check', String(jvm.pid), '--policy', policy, '--format', 'json']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe('knetstat-java: check failed: 4 of 7 rule(s) failed\n');
    json = JSON.parse(r.stdout);
  });
  const rule = (name: string) => json.rules.find((r: any) => r.name === name);

  it('passes a rule whose sockets have what it expects', () => {
    expect(rule('db keeps alive')).toMatchObject({ status: 'pass' });
    expect(rule('db keeps alive').sockets.length).toBe(1);
    expect(rule('db keeps alive').sockets[0].fd).toBeGreaterThan(0);
    expect(rule('udp buffers').status).toBe('pass');
  });

  it('fails with a message in Java terms', () => {
    const r = rule('slow keeps alive');
    expect(r.status).toBe('fail');
    expect(r.sockets[0].failures).toEqual([
      expect.stringMatching(new RegExp(`^expected setKeepAlive\\(true\\) on ${ADDR}:${S('slow').remotePort} \\(fd \\d+\\), found SO_KEEPALIVE=0 \\(as after setKeepAlive\\(false\\)\\)$`)),
    ]);
  });

  it('checks ranges: the backlog-200 listener passes, default ones (50) fail', () => {
    const r = rule('listeners have room');
    expect(r.status).toBe('fail');
    const big = r.sockets.find((s: any) => s.label.includes(`:${S('big').localPort} LISTEN`));
    expect(big.status).toBe('pass');
    const failed = r.sockets.filter((s: any) => s.status === 'fail');
    expect(failed.length).toBe(r.sockets.length - 1);
    expect(failed[0].failures[0]).toMatch(/^expected a listen backlog >= 128 \(new ServerSocket\(port, 128\) \/ bind\(addr, 128\)\) on .+, found backlog=50$/);
  });

  it('finds the Java call a rule forbids, only on the socket that has it', () => {
    const r = rule('no RST on close');
    expect(r.status).toBe('fail');
    const bad = r.sockets.filter((s: any) => s.status === 'fail');
    expect(bad.length).toBe(1);
    expect(bad[0].label).toContain(`:${S('rst').localPort} -> `);
    expect(bad[0].failures[0]).toMatch(/^expected no setSoLinger\(true, 0\) on .+, but the socket is configured as after setSoLinger\(true, 0\)$/);
    // "tcp" matches the JVM's tcp6 (dual-stack) sockets too: every TCP socket is checked.
    expect(r.sockets.length).toBe(Object.keys(jvm.ready.sockets).length - 1);
  });

  it('skips a rule that matches nothing, fails it when required', () => {
    expect(rule('nothing on port 1')).toMatchObject({ status: 'skip', message: 'no socket matches localPort=1', sockets: [] });
    expect(rule('must have port 1')).toMatchObject({ status: 'fail', message: 'no socket matches remotePort=1 (required)' });
    expect(json.counts).toEqual({ rules: 7, passed: 2, failed: 4, skipped: 1, unknown: 0 });
  });

  it('text output lists each rule with its verdict', () => {
    const r = runCli(['check', String(jvm.pid), '-p', policy]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('  7 rules: 2 passed, 4 failed, 1 skipped, 0 unknown\n');
    expect(r.stdout).toMatch(/^PASS {4}db keeps alive \(1 socket\)$/m);
    expect(r.stdout).toMatch(/^SKIP {4}nothing on port 1: no socket matches localPort=1$/m);
    expect(r.stdout).toMatch(/^ {10}expected setKeepAlive\(true\) on /m);
  });

  it('--format junit validates and junitparser counts what the JSON counts', () => {
    const out = join(dir, 'check.xml');
    const r = runCli(['check', String(jvm.pid), '-p', policy, '-f', 'junit', '-o', out]);
    expect(r.code).toBe(1);
    expect(xmllint(out).code).toBe(0);
    const x = junitparser(out);
    expect(x.suites.map((s) => s.name)).toEqual(json.rules.map((r: any) => r.name));
    const cases = json.rules.reduce((n: number, r: any) => n + Math.max(1, r.sockets.length), 0);
    const failures = json.rules.reduce((n: number, r: any) => n + r.sockets.filter((s: any) => s.status === 'fail').length + (r.status === 'fail' && !r.sockets.length ? 1 : 0), 0);
    expect(x.tests).toBe(cases);
    expect(x.suites.reduce((n, s) => n + s.failures, 0)).toBe(failures);
    expect(x.suites.reduce((n, s) => n + s.skipped, 0)).toBe(1);
    expect(x.suites.reduce((n, s) => n + s.errors, 0)).toBe(0);
    const slow = x.suites.find((s) => s.name === 'slow keeps alive')!;
    expect(slow.cases[0]!.results[0]!.kind).toBe('Failure');
    expect(slow.cases[0]!.results[0]!.message).toMatch(/^expected setKeepAlive\(true\) on /);
    expect(slow.cases[0]!.systemOut).toContain('SO_KEEPALIVE=0');
    expect(slow.properties.pid).toBe(String(jvm.pid));
    expect(slow.properties.policy).toBe(policy);
    const skip = x.suites.find((s) => s.name === 'nothing on port 1')!;
    expect(skip.cases[0]!.results[0]).toMatchObject({ kind: 'Skipped', message: 'no socket matches localPort=1' });
  });
});

describe('check --expect', () => {
  it('exit 0 when every quick rule passes', () => {
    const r = runCli(['check', String(jvm.pid), '--expect', `remotePort=${S('db').remotePort}:SO_KEEPALIVE=1,TCP_NODELAY=1`,
      '-e', `state=LISTEN,localPort=${S('big').localPort}:backlog>=200,backlog<=200`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  2 rules: 2 passed, 0 failed, 0 skipped, 0 unknown\n');
  });

  it('exit 1 with the Java call when one fails', () => {
    const r = runCli(['check', String(jvm.pid), '-e', `remotePort=${S('rst').remotePort}:SO_LINGER=off`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/expected setSoLinger\(false, 0\) on .+, found SO_LINGER=on,0s \(as after setSoLinger\(true, 0\)\)/);
  });

  it('exit 3 when an expected value cannot be read (unknown is not a failure)', () => {
    const r = runCli(['check', String(jvm.pid), '--source', 'procfs', '-e', `remotePort=${S('db').remotePort}:SO_KEEPALIVE=1`, '-f', 'json']);
    expect(r.code).toBe(3);
    const j = JSON.parse(r.stdout);
    expect(j.status).toBe('unknown');
    expect(j.rules[0].sockets[0].unknowns[0]).toMatch(/^SO_KEEPALIVE on .+ could not be read: /);
    expect(r.stderr).toMatch(/^knetstat-java: check incomplete: 1 rule\(s\) need values that could not be read/);
  });

  it('unknown in JUnit is an error, not a failure', () => {
    const out = join(dir, 'unknown.xml');
    const r = runCli(['check', String(jvm.pid), '--source', 'procfs', '-e', `remotePort=${S('db').remotePort}:SO_KEEPALIVE=1`, '-f', 'junit', '-o', out]);
    expect(r.code).toBe(3);
    expect(xmllint(out).code).toBe(0);
    const x = junitparser(out);
    expect([x.tests, x.suites[0]!.failures, x.suites[0]!.errors]).toEqual([1, 0, 1]);
  });
});

describe('check: bad input is exit 2 with one line naming what is wrong', () => {
  const bad = (args: string[], line: RegExp) => {
    const r = runCli(['check', ...args]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(line)]);
    expect(r.stdout).toBe('');
  };
  it('policy errors name the field', () => {
    const pid = String(jvm.pid);
    bad([pid, '-p', policyFile('b1.json', { rules: [{ name: 'x', match: { remotePort: 'abc' }, expect: { SO_KEEPALIVE: 1 } }] })],
      /^knetstat-java: .*b1\.json: rules\[0\]\.match\.remotePort: expected a port number 0\.\.65535, got "abc"$/);
    bad([pid, '-p', policyFile('b2.json', { rules: [{ name: 'x', expect: { SO_KEEPALIV: 1 } }] })],
      /b2\.json: rules\[0\]\.expect\.SO_KEEPALIV: unknown option 'SO_KEEPALIV' \(did you mean SO_KEEPALIVE\?\)$/);
    bad([pid, '-p', policyFile('b3.json', '{"rules": [')], /b3\.json: not valid JSON/);
    bad([pid, '-p', policyFile('b4.json', { rules: [{ name: 'x', mtach: {}, expect: { SO_KEEPALIVE: 1 } }] })], /rules\[0\]\.mtach: unknown key/);
    bad([pid, '-p', policyFile('b5.json', { rules: [{ name: 'x', expect: { SO_LINGER: { min: 1 } } }] })], /rules\[0\]\.expect\.SO_LINGER: SO_LINGER: expected/);
    bad([pid, '-p', join(dir, 'missing.json')], /cannot read policy .*missing\.json: ENOENT$/);
    bad([pid, '-e', 'remotePort=5432'], /--expect 'remotePort=5432': expected MATCH:EXPECT/);
    bad([pid], /nothing to check: give --policy FILE or --expect/);
  });
  it('a bad pid, or none', () => {
    bad(['12x', '-e', ':SO_KEEPALIVE=1'], /not a process id: '12x'/);
    bad(['-e', ':SO_KEEPALIVE=1'], /missing pid/);
  });
});
