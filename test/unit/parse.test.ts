// Parsers and pure helpers, on recorded samples and hand-written edge cases.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIPv6 } from '../../src/model/addr.js';
import { parseProcAddress, parseProcNet } from '../../src/linux/procnet.js';
import { parseTcpInfo } from '../../src/linux/tcpinfo.js';
import { diagFromTcpInfo, knetstatDiag, normalDiag } from '../../src/linux/knetstat.js';
import { covers } from '../../src/java/defaults.js';
import { parsePid } from '../../src/discover/process.js';
import { xmlSafe } from '../../src/render/junit.js';
import { ROOT } from '../helpers/root.js';

const sample = (f: string) => readFileSync(join(ROOT, 'samples', 'proc', f), 'latin1');

describe('addresses', () => {
  it('formats IPv6 per RFC 5952, v4-mapped as ::ffff:a.b.c.d', () => {
    const b = (hex: string) => Buffer.from(hex, 'hex');
    expect(formatIPv6(b('00000000000000000000000000000001'))).toBe('::1');
    expect(formatIPv6(b('00000000000000000000000000000000'))).toBe('::');
    expect(formatIPv6(b('00000000000000000000ffff7f000001'))).toBe('::ffff:127.0.0.1');
    expect(formatIPv6(b('20010db8000000000001000000000001'))).toBe('2001:db8::1:0:0:1');
    expect(formatIPv6(b('20010db8000100000000000000000001'))).toBe('2001:db8:1::1');
    expect(formatIPv6(b('fe800000000000000000000000000000'))).toBe('fe80::');
  });
  it('decodes /proc/net hex addresses (host-order words)', () => {
    expect(parseProcAddress('0100007F:1F90')).toEqual({ address: '127.0.0.1', port: 8080 });
    expect(parseProcAddress('0000000000000000FFFF00000100007F:B01D')).toEqual({ address: '::ffff:127.0.0.1', port: 0xb01d });
    expect(parseProcAddress('00000000000000000000000001000000:0050')).toEqual({ address: '::1', port: 80 });
    expect(() => parseProcAddress('0100007F')).toThrow();
  });
});

describe('/proc/net tables', () => {
  it('parses recorded tcp and tcp6 tables', () => {
    const rows = parseProcNet(sample("tcp6.txt"), "tcp6");
    expect(rows.length).toBe(3);
    expect(rows[0]!.local.address).toBe('::ffff:127.0.0.1');
    expect(rows[0]!.state).toBe('TIME_WAIT');
    const v4 = parseProcNet(sample('tcp.txt'), 'tcp');
    expect(v4.length).toBe(sample('tcp.txt').trim().split('\n').length - 1);
    expect(v4.some((r) => r.state === 'LISTEN' && r.inode > 0)).toBe(true);
    expect(v4.some((r) => r.state === 'ESTABLISHED' && r.local.address === '127.0.0.1')).toBe(true);
    expect(parseProcNet(sample('udp.txt'), 'udp')[0]!.state).toBe('UNCONN');
  });
  it('names the file and line of a malformed row', () => {
    expect(() => parseProcNet(sample('tcp6-malformed.txt'), 'tcp6', undefined, 'tcp6-malformed.txt'))
      .toThrow(/tcp6-malformed.txt: line 3: expected at least 10 fields, found 4/);
  });
  it('decodes only the inodes asked for', () => {
    const all = parseProcNet(sample('tcp.txt'), 'tcp');
    const one = parseProcNet(sample('tcp.txt'), 'tcp', new Set([all[1]!.inode]));
    expect(one.map((r) => r.inode)).toEqual([all[1]!.inode]);
  });
});

describe('tcp_info and Diag', () => {
  const info = (f: (b: Buffer) => void, len = 240) => { const b = Buffer.alloc(256); f(b); return parseTcpInfo(b, len, 'pidfd'); };
  const est = (ti: ReturnType<typeof info>) => diagFromTcpInfo('ESTABLISHED', ti);
  it('shows >| when the peer window is 0, |< when ours is, ># for stale unacked data', () => {
    expect(est(info((b) => { b.writeUInt32LE(100, 228); b.writeUInt32LE(100, 232); }))).toBe('');
    expect(est(info((b) => { b.writeUInt32LE(0, 228); b.writeUInt32LE(100, 232); }))).toBe('>|');
    expect(est(info((b) => { b.writeUInt32LE(100, 228); b.writeUInt32LE(0, 232); }))).toBe('|<');
    expect(est(info((b) => { b.writeUInt32LE(1, 228); b.writeUInt32LE(1, 232); b.writeUInt32LE(3, 24); b.writeUInt32LE(1500, 56); }))).toBe('>#');
    expect(est(info((b) => { b.writeUInt32LE(1, 228); b.writeUInt32LE(1, 232); b.writeUInt32LE(3, 24); b.writeUInt32LE(900, 56); }))).toBe('');
  });
  it('leaves out what an older kernel did not report rather than guess', () => {
    const old = info((b) => { b.writeUInt32LE(0, 228); }, 232); // Linux 5.4..6.1: no rcv_wnd
    expect(old.rcvWnd).toBeUndefined();
    expect(est(old)).toBe('>|');
    expect(est(info(() => {}, 104))).toBe(''); // < 5.4: no windows at all
  });
  it('follows knetstat_show_tcp_diag: one indicator, ESTABLISHED only', () => {
    // both windows 0 and stale data: the module prints >|< alone
    const all = info((b) => { b.writeUInt32LE(3, 24); b.writeUInt32LE(1500, 56); });
    expect(est(all)).toBe('>|<');
    expect(diagFromTcpInfo('CLOSE_WAIT', all)).toBe('');
    expect(diagFromTcpInfo('FIN_WAIT1', all)).toBe('');
    expect(est(info((b) => { b.writeUInt32LE(0, 228); b.writeUInt32LE(1, 232); b.writeUInt32LE(3, 24); b.writeUInt32LE(1500, 56); }))).toBe('>|');
    expect(est(info((b) => { b.writeUInt32LE(1, 228); b.writeUInt32LE(0, 232); b.writeUInt32LE(3, 24); b.writeUInt32LE(1500, 56); }))).toBe('|<');
    expect(knetstatDiag('ESTABLISHED', true, true, true)).toBe('>|<');
    expect(knetstatDiag('LISTEN', true, false, false)).toBe('');
  });
  it('reads the side-by-side indicators of older captures under the same rule', () => {
    expect(normalDiag('ESTABLISHED', '>||<')).toBe('>|<');
    expect(normalDiag('ESTABLISHED', '>|>#')).toBe('>|');
    expect(normalDiag('ESTABLISHED', '|<>#')).toBe('|<');
    expect(normalDiag('ESTABLISHED', '>#')).toBe('>#');
    expect(normalDiag('CLOSE_WAIT', '|<')).toBe('');
    expect(normalDiag('ESTABLISHED', '')).toBe('');
  });
});

describe('small helpers', () => {
  it('JDK version ranges', () => {
    expect(covers('17', 17)).toBe(true);
    expect(covers('17', 21)).toBe(false);
    expect(covers('11-17', 11)).toBe(true);
    expect(covers('>=17', 25)).toBe(true);
    expect(covers('17', undefined)).toBe(false);
  });
  it('pids', () => {
    expect(parsePid('42')).toBe(42);
    expect(() => parsePid('0')).toThrow(/1\.\.4194304/);
    expect(() => parsePid('4x')).toThrow(/not a process id/);
  });
  it('XML text: terminal escapes stripped, control characters (which XML 1.0 forbids) as ?', () => {
    expect(xmlSafe('a\x1b[31mred\x1b[0m\x07b\x1b]0;title\x07c')).toBe('ared?bc');
  });
});
