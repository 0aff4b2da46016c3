// --redact on captures: addresses aliased consistently (v4-mapped ones with
// their IPv4 alias), messages rewritten whole-address only, hostname, user and
// command line reduced; a redacted sample snapshot keeps its analysis.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/java/analyze.js';
import { parseSnapshot } from '../../src/snapshot/file.js';
import { redactCapture } from '../../src/snapshot/redact.js';
import type { Capture } from '../../src/model/types.js';
import { ROOT } from '../helpers/root.js';

const load = (f: string): Capture => parseSnapshot(readFileSync(join(ROOT, 'samples', 'snapshots', f)), f).capture;

describe('redactCapture', () => {
  it('redactCapture: v4-mapped addresses share the alias; messages are rewritten; 10.0.0.5 is not touched inside 110.0.0.55', () => {
    const s = (l: string, r: string) => ({ protocol: 'tcp6', local: { address: l, port: 1 }, remote: { address: r, port: 2 }, options: {} });
    const c: any = {
      host: { hostname: 'db-host-7', kernel: 'k', sysctls: {} },
      process: { pid: 1, comm: 'java', cmdline: ['java', '-jar', 'app.jar'], uid: 0, isJvm: true },
      sockets: [s('10.0.0.5', '::ffff:10.0.0.6'), s('::ffff:10.0.0.5', '::1'), s('fe80::1', '0.0.0.0')],
      warnings: ['peer 10.0.0.6:5432 and 110.0.0.55 on db-host-7'], sources: [], vanished: [],
    };
    const r = redactCapture(c);
    expect(r.sockets.map((x) => [x.local.address, x.remote.address])).toEqual([
      ['addr-1', '::ffff:addr-2'], ['::ffff:addr-1', '::1'], ['addr-3', '0.0.0.0'],
    ]);
    expect(r.warnings).toEqual(['peer addr-2:5432 and 110.0.0.55 on redacted']);
    expect(r.process.cmdline).toEqual(['java', '<redacted>', '<redacted>']);
  });

  it('keeps loopback, wildcards, ports and the analysis; marks the capture', () => {
    const cap = load('servers.json');
    const cmdline = ['java', '-Djava.net.preferIPv4Stack=true', '-Dsecret=x', '-cp', '/home/me/app', 'SocketLab', 'a:server'];
    cap.process = { ...cap.process, user: 'me', cmdline, jvm: { ...cap.process.jvm!, properties: { 'java.net.preferIPv4Stack': 'true' }, mainClass: 'SocketLab' } };
    cap.sockets[0]!.remote = { address: '192.0.2.7', port: 4242 };
    cap.warnings = ['peer 192.0.2.7 refused; /home/me/app is big'];
    const r = redactCapture(cap);
    expect(r.redacted).toBe(true);
    expect(r.host.hostname).toBe('redacted');
    expect(r.process.user).toBe('redacted');
    expect(r.process.cmdline).toEqual(['java', '-Djava.net.preferIPv4Stack=true', '<redacted>', '<redacted>', '<redacted>', 'SocketLab', '<redacted>']);
    expect(r.sockets[0]!.remote).toEqual({ address: 'addr-1', port: 4242 });
    expect(r.sockets.slice(1).map((s) => s.local.address)).toEqual(cap.sockets.slice(1).map((s) => s.local.address)); // ::ffff:127.0.0.1
    expect(r.warnings).toEqual(['peer addr-1 refused; <redacted> is big']);
    const calls = (c: Capture) => analyze(c).sockets.map((s) => s.java.map((j) => j.call));
    expect(calls(r)).toEqual(calls(cap));
    expect(cap.host.hostname).not.toBe('redacted'); // the input is not changed
  });

  it('a redacted sample is marked and leaks none of what it hid', () => {
    const cap = load('udp-dial-redacted.json');
    expect(cap.redacted).toBe(true);
    expect(JSON.stringify(cap)).not.toMatch(/\b(10|172|192)\.\d+\.\d+\.\d+\b/);
  });
});
