// check/ without a JVM: the policy grammar, matching, and evaluate() on the
// sample snapshots (their messages in Java terms, unknown vs failure, skipped
// and required rules). The CLI around it: test/check.test.ts and the golden
// outputs (test/golden/check).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExpect, parsePolicy } from '../../src/check/policy.js';
import { evaluate, matches } from '../../src/check/evaluate.js';
import { analyze } from '../../src/java/analyze.js';
import { parseSnapshot } from '../../src/snapshot/file.js';
import type { Capture, Report, ReportSocket } from '../../src/model/types.js';
import { ROOT } from '../helpers/root.js';

const load = (f: string): Capture => parseSnapshot(readFileSync(join(ROOT, 'samples', 'snapshots', f)), f).capture;

describe('policy parsing and matching (no JVM)', () => {
  it('--expect grammar: match terms before the first colon followed by an expectation, IPv6 included', () => {
    const r = parseExpect('remoteAddress=::1,remotePort=5432:SO_KEEPALIVE=1,SO_RCVBUF>=65536,SO_LINGER=5');
    expect(r.match).toEqual({ remoteAddress: '::1', remotePort: 5432 });
    expect(r.expect).toEqual({
      SO_KEEPALIVE: { kind: 'exact', value: 1 },
      SO_RCVBUF: { kind: 'range', min: 65536, max: undefined },
      SO_LINGER: { kind: 'exact', value: { enabled: true, seconds: 5 } },
    });
    expect(parseExpect('*:TCP_NODELAY=true').match).toEqual({});
  });

  it('SO_LINGER: seconds, {enabled, seconds} or off', () => {
    const p = parsePolicy(JSON.stringify({ rules: [
      { name: 'a', expect: { SO_LINGER: 0 } }, { name: 'b', expect: { SO_LINGER: { enabled: false } } }, { name: 'c', expect: { SO_LINGER: -1 } },
    ] }), 'p');
    expect(p.rules.map((r) => r.expect.SO_LINGER)).toEqual([
      { kind: 'exact', value: { enabled: true, seconds: 0 } },
      { kind: 'exact', value: { enabled: false, seconds: 0 } },
      { kind: 'exact', value: { enabled: false, seconds: 0 } },
    ]);
  });

  const sock = (protocol: string, address: string): ReportSocket => ({
    protocol, local: { address, port: 1 }, remote: { address, port: 5432 }, state: 'ESTABLISHED', role: 'connected',
    fd: 3, inode: 1, options: { SO_KEEPALIVE: { value: 0, source: 'pidfd' } }, java: [], unknown: [], apis: [],
  } as unknown as ReportSocket);

  it('protocol: tcp matches tcp and tcp6, tcp4 only IPv4, tcp6 only IPv6; v4 addresses match their v4-mapped form', () => {
    const t4 = sock('tcp', '10.0.0.5');
    const t6 = sock('tcp6', '::ffff:10.0.0.5');
    expect([matches(t4, { protocol: 'tcp' }), matches(t6, { protocol: 'tcp' })]).toEqual([true, true]);
    expect([matches(t4, { protocol: 'tcp6' }), matches(t6, { protocol: 'tcp6' })]).toEqual([false, true]);
    expect([matches(t4, { protocol: 'tcp4' }), matches(t6, { protocol: 'tcp4' })]).toEqual([true, false]);
    expect(matches(t6, { protocol: 'udp' })).toBe(false);
    expect(matches(t6, { remoteAddress: '10.0.0.5' })).toBe(true);
    expect(matches(t6, { remoteAddress: '10.0.0.6' })).toBe(false);
  });

  it('evaluate() is pure: the example message of the README', () => {
    const report = { sockets: [sock('tcp', '10.0.0.5')], process: { pid: 1, comm: 'java', cmdline: [] }, host: { hostname: 'h', kernel: 'k' }, sources: [], tool: { version: '0' }, capturedAt: 't' } as unknown as Report;
    const res = evaluate(report, { origin: 'x', rules: [parseExpect('remotePort=5432:SO_KEEPALIVE=1')] });
    expect(res.rules[0]!.sockets[0]!.failures).toEqual(['expected setKeepAlive(true) on 10.0.0.5:5432 (fd 3), found SO_KEEPALIVE=0 (as after setKeepAlive(false))']);
    expect(res.status).toBe('fail');
  });
});

describe('evaluate() on the sample snapshots', () => {
  const clients = analyze(load('clients.json'));
  const rules = (...specs: string[]) => ({ origin: 'test', rules: specs.map((x) => parseExpect(x)) });

  it('passes and fails socket by socket, in Java terms', () => {
    const res = evaluate(clients, rules('role=connected:SO_KEEPALIVE=1'));
    const [rule] = res.rules;
    expect(rule!.status).toBe('fail');
    expect(rule!.sockets.map((s) => s.status)).toEqual(['pass', 'fail']);
    expect(rule!.sockets[1]!.failures).toEqual(['expected setKeepAlive(true) on [::ffff:127.0.0.1]:33003 (fd 8), found SO_KEEPALIVE=0 (as after setKeepAlive(false))']);
    expect(rule!.sockets[0]!.label).toBe('tcp6 [::ffff:127.0.0.1]:55612 -> [::ffff:127.0.0.1]:36373 ESTABLISHED fd 5');
    expect(res.counts).toEqual({ rules: 1, passed: 0, failed: 1, skipped: 0, unknown: 0 });
  });

  it('finds a forbidden Java call in any of its spellings', () => {
    for (const call of ['setSoLinger(true, 0)', 'Socket.setSoLinger(true,0)', 'java.net.Socket.setSoLinger(true, 0)', 'setOption(StandardSocketOptions.SO_LINGER, 0)']) {
      const rule = parsePolicy(JSON.stringify({ rules: [{ name: 'r', match: { protocol: 'tcp' }, expect: { java: { not: [call] } } }] }), 'p').rules;
      const bad = evaluate(clients, { origin: 'p', rules: rule }).rules[0]!.sockets.filter((s) => s.status === 'fail');
      expect(bad.map((s) => s.fd), call).toEqual([8]);
    }
  });

  it('a value no source read is unknown, and unknown is not a failure', () => {
    const cap = load('clients.json');
    for (const s of cap.sockets) s.options.SO_KEEPALIVE = { value: null, source: 'pidfd', error: 'EPERM' };
    const res = evaluate(analyze(cap), rules('role=connected:SO_KEEPALIVE=1'));
    expect(res.status).toBe('unknown');
    expect(res.rules[0]!.sockets[0]!.unknowns).toEqual(['SO_KEEPALIVE on [::ffff:127.0.0.1]:36373 (fd 5) could not be read: EPERM']);
  });

  it('a rule that matches nothing is skipped, or fails when required; ranges name both bounds and calls', () => {
    const p = parsePolicy(JSON.stringify({ rules: [
      { name: 'none', match: { localPort: 1 }, expect: { SO_KEEPALIVE: 1 } },
      { name: 'none, required', match: { localPort: 1 }, expect: { SO_KEEPALIVE: 1 }, required: true },
      { name: 'backlog', match: { state: 'LISTEN' }, expect: { backlog: { min: 128, max: 4096 } } },
    ] }), 'p');
    const res = evaluate(clients, p, 'x.json');
    expect(res.rules.map((r) => r.status)).toEqual(['skip', 'fail', 'fail']);
    expect(res.rules[1]!.message).toBe('no socket matches localPort=1 (required)');
    expect(res.rules[2]!.sockets[0]!.failures[0]).toMatch(/^expected a listen backlog >= 128 and <= 4096 \(new ServerSocket\(port, 128\) \/ bind\(addr, 128\) \.\. .*\), found backlog=50$/);
    expect(res.context).toMatchObject({ pid: clients.process.pid, snapshot: 'x.json', jvm: 'Debian 17.0.15', source: 'pidfd' });
  });
});
