// sock_diag's messages, pure: dump and lookup requests byte by byte, records
// decoded from hand-made inet_diag_msg buffers, the id orientation of exact
// lookups, address text to inet_diag_sockid bytes. Against the kernel and ss:
// test/sockdiag.test.ts.
import { describe, expect, it } from 'vitest';
import { DEFAULT_EXT, INET_DIAG_REQ_V2_LEN, buildInetDiagDump, lookupSockId, parseDiagMessage, writeInetDiagLookup } from '../../src/linux/inetdiag.js';
import { NLMSG_HDRLEN, messages } from '../../src/linux/netlink.js';
import { addressBytes } from '../../src/model/addr.js';
import { diagOptions } from '../../src/sources/diagrecord.js';
import { FormatError } from '../../src/errors.js';
import type { RawSocket } from '../../src/model/types.js';

describe('netlink messages', () => {
  it('builds a 72-byte SOCK_DIAG_BY_FAMILY dump request', () => {
    const b = buildInetDiagDump(2, 6, 0xff, 0xffffffff, 7);
    expect(b.length).toBe(NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN);
    expect(b.readUInt32LE(0)).toBe(72);
    expect(b.readUInt16LE(4)).toBe(20);
    expect(b.readUInt16LE(6)).toBe(0x301);
    expect([b[16], b[17], b[18]]).toEqual([2, 6, 0xff]);
  });

  it('decodes inet_diag_msg and its attributes (sockopt bitfields, v6only, mark, shutdown)', () => {
    const attrs: [number, Buffer][] = [
      [22, Buffer.from([0x14, 0x01])], // SOCKOPT: freebind (bit 2), mc_loop (bit 4); bind_address_no_port
      [11, Buffer.from([1])], // SKV6ONLY
      [15, Buffer.from([7, 0, 0, 0])], // MARK
      [8, Buffer.from([3])], // SHUTDOWN
      [4, Buffer.from('cubic\0')], // CONG
    ];
    const parts = attrs.map(([t, d]) => {
      const a = Buffer.alloc((4 + d.length + 3) & ~3);
      a.writeUInt16LE(4 + d.length, 0); a.writeUInt16LE(t, 2); d.copy(a, 4);
      return a;
    });
    const msg = Buffer.alloc(72);
    msg.writeUInt8(10, 0); msg.writeUInt8(7, 1); msg.writeUInt8(0, 2);
    msg.writeUInt16BE(5353, 4); msg[8 + 15] = 1; // [::1]:5353
    msg.writeUInt32LE(1000, 64); msg.writeUInt32LE(4242, 68);
    const buf = Buffer.concat([msg, ...parts]);
    const r = parseDiagMessage(buf, 0, buf.length, 'udp');
    expect(r).toMatchObject({ protocol: 'udp6', state: 'UNCONN', local: { address: '::1', port: 5353 }, uid: 1000, inode: 4242, v6only: true, mark: 7, shutdown: 3, cong: 'cubic' });
    expect(r.sockopt).toMatchObject({ freebind: true, mcLoop: true, recverr: false, transparent: false, bindAddressNoPort: true, deferConnect: false });
    const o = diagOptions(r);
    expect(o.IPV6_V6ONLY?.value).toBe(1);
    expect(o.IP_MULTICAST_LOOP?.value).toBe(1);
    expect(o.IP_MULTICAST_ALL).toBeUndefined(); // IPv4-only option in the catalog
    expect(o.SO_RCVBUF).toBeUndefined(); // no SKMEMINFO attribute: absent, not 0
  });
});

describe('exact sock_diag requests', () => {
  it('an exact request is SOCK_DIAG_BY_FAMILY with NLM_F_REQUEST only, its id in each protocol\'s orientation', () => {
    const buf = Buffer.alloc(80, 0xaa);
    const id = { sport: 8080, dport: 40000, src: addressBytes('10.1.2.3', 4)!, dst: addressBytes('10.9.8.7', 4)!, ifindex: 3 };
    expect(writeInetDiagLookup(buf, 4, 2, 6, DEFAULT_EXT, 0xffffffff, 99, id)).toBe(72);
    const b = buf.subarray(4);
    expect(b.readUInt32LE(0)).toBe(72);
    expect(b.readUInt16LE(4)).toBe(20); // SOCK_DIAG_BY_FAMILY
    expect(b.readUInt16LE(6)).toBe(0x1); // NLM_F_REQUEST, no NLM_F_DUMP
    expect(b.readUInt32LE(8)).toBe(99);
    expect([b[16], b[17], b[18], b[19]]).toEqual([2, 6, DEFAULT_EXT, 0]);
    expect(b.readUInt16BE(24)).toBe(8080);
    expect(b.readUInt16BE(26)).toBe(40000);
    expect([...b.subarray(28, 32)]).toEqual([10, 1, 2, 3]);
    expect([...b.subarray(44, 48)]).toEqual([10, 9, 8, 7]);
    expect(b.readUInt32LE(60)).toBe(3);
    expect([b.readUInt32LE(64), b.readUInt32LE(68)]).toEqual([0xffffffff, 0xffffffff]); // INET_DIAG_NOCOOKIE
    expect(buf[3]).toBe(0xaa); // nothing written outside its 72 bytes
    expect(buf[76]).toBe(0xaa);

    const tcp: RawSocket = { protocol: 'tcp', fd: 5, inode: 1, local: { address: '127.0.0.1', port: 80 }, remote: { address: '127.0.0.2', port: 5555 }, state: 'ESTABLISHED', recvQ: 0, sendQ: 0, options: {}, diag: '', sources: [] };
    expect(lookupSockId(tcp)).toMatchObject({ sport: 80, dport: 5555, src: addressBytes('127.0.0.1', 4), dst: addressBytes('127.0.0.2', 4) });
    const udp: RawSocket = { ...tcp, protocol: 'udp' };
    expect(lookupSockId(udp)).toMatchObject({ sport: 5555, dport: 80, src: addressBytes('127.0.0.2', 4), dst: addressBytes('127.0.0.1', 4) });
    const listener: RawSocket = { ...tcp, protocol: 'tcp6', state: 'LISTEN', local: { address: '::ffff:127.0.0.1', port: 80 }, remote: { address: '::', port: 0 } };
    expect(lookupSockId(listener)).toMatchObject({ sport: 80, dport: 0, dst: Buffer.alloc(16) });
  });

  it('encodes addresses as inet_diag_sockid holds them', () => {
    const hex = (a: string, f: 4 | 6) => addressBytes(a, f)?.toString('hex');
    expect(hex('127.0.0.1', 4)).toBe('7f000001' + '0'.repeat(24));
    expect(hex('::', 6)).toBe('0'.repeat(32));
    expect(hex('::1', 6)).toBe('0'.repeat(31) + '1');
    expect(hex('::ffff:127.0.0.1', 6)).toBe('00000000000000000000ffff7f000001');
    expect(hex('fe80::1:2%eth0', 6)).toBe('fe80' + '0'.repeat(20) + '00010002');
    expect(hex('2001:db8:0:0:1:0:0:1', 6)).toBe('20010db8000000000001000000000001');
    expect(hex('64:ff9b::192.0.2.33', 6)).toBe('0064ff9b0000000000000000c0000221');
    for (const bad of ['1.2.3', '256.0.0.1', 'x']) expect(addressBytes(bad, 4), bad).toBeUndefined();
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3', 'g::1', '::1.2.3']) expect(addressBytes(bad, 6), bad).toBeUndefined();
  });

  it('a dump narrowed to a local port carries idiag_sport and a sport >= p && sport <= p bytecode', () => {
    const b = buildInetDiagDump(2, 6, 0, 1 << 10, 5, 4242);
    expect(b.length).toBe(72 + 20);
    expect(b.readUInt32LE(0)).toBe(92);
    expect(b.readUInt16LE(6)).toBe(0x301);
    expect(b.readUInt16BE(24)).toBe(4242);
    expect([b.readUInt16LE(72), b.readUInt16LE(74)]).toEqual([20, 1]); // nlattr: INET_DIAG_REQ_BYTECODE
    const ops = [0, 1, 2, 3].map((i) => [b[76 + 4 * i], b[77 + 4 * i], b.readUInt16LE(78 + 4 * i)]);
    expect(ops).toEqual([[2, 8, 20], [0, 0, 4242], [3, 8, 12], [0, 0, 4242]]);
  });
});

describe('netlink framing', () => {
  it('a message that overruns the bytes received is a FormatError, not a crash', () => {
    const b = Buffer.alloc(32);
    b.writeUInt32LE(64, 0); // claims 64 bytes, 32 arrived
    expect(() => [...messages(b, 32)]).toThrow(FormatError);
    expect(() => parseDiagMessage(Buffer.alloc(40), 0, 40, 'tcp')).toThrow(FormatError);
  });
});
