// Sockets of equal options may share one options object (the bpf source makes
// it so: src/sources/bpf.ts optionsOf): a source that adds options to one
// socket (sock_diag's enrichment here, knetstat in knetstat-parse.test.ts)
// must write into a copy, never into the object its neighbours hold.
import { describe, expect, it } from 'vitest';
import { mergeDiagRecord } from '../../src/sources/diagrecord.js';
import type { DiagRecord } from '../../src/linux/inetdiag.js';
import type { OptionReading, RawSocket } from '../../src/model/types.js';

const shared: Record<string, OptionReading> = {
  SO_KEEPALIVE: { value: 0, source: 'bpf' },
  IP_TOS: { value: null, source: 'bpf', note: 'not read' },
};

function sock(fd: number, port: number): RawSocket {
  return {
    protocol: 'tcp', fd, inode: 1000 + fd, local: { address: '127.0.0.1', port }, remote: { address: '127.0.0.1', port: 9 },
    state: 'ESTABLISHED', recvQ: 0, sendQ: 0, options: shared, diag: '', sources: ['bpf'],
  };
}

function record(s: RawSocket, tos: number): DiagRecord {
  return {
    protocol: 'tcp', family: 4, st: 1, state: 'ESTABLISHED', local: s.local, remote: s.remote, ifindex: 0,
    timer: 0, expiresMs: 0, retrans: 0, rqueue: 0, wqueue: 0, uid: 0, inode: s.inode, tos,
  } as DiagRecord;
}

describe('an enrichment adds options to its socket only', () => {
  it('sock_diag fills a missing value into a copy of a shared options object', () => {
    const a = sock(3, 40001), b = sock(4, 40002);
    expect(mergeDiagRecord(a, record(a, 16))).toBe(true);
    expect(a.options.IP_TOS).toMatchObject({ value: 16, source: 'sockdiag' });
    expect(a.options).not.toBe(shared);
    // The neighbour, and the shared object, are as they were.
    expect(b.options).toBe(shared);
    expect(shared.IP_TOS!.value).toBeNull();
    expect(mergeDiagRecord(b, record(b, 32))).toBe(true);
    expect(b.options.IP_TOS!.value).toBe(32);
    expect(a.options.IP_TOS!.value).toBe(16);
    // A value read already is never replaced, and then the options are not copied.
    const c = sock(5, 40003);
    c.options = { IP_TOS: { value: 8, source: 'bpf' } };
    const before = c.options;
    mergeDiagRecord(c, record(c, 64));
    expect(c.options).toBe(before);
    expect(c.options.IP_TOS!.value).toBe(8);
  });
});
