// The pidfd source's reader (linux/sockopt.ts) on sockets of our own: what it
// reads is what the kernel and Node say. No JVM, no other process.
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addresses, identify, readInt64LE, readSocket } from '../../src/linux/sockopt.js';
import * as libc from '../../src/linux/libc.js';

describe('the pidfd source reads what the kernel says', () => {
  it('64-bit integers without BigInt, as Number(readBigInt64LE) rounds them', () => {
    const b = Buffer.alloc(8);
    const values = [0n, 1n, -1n, 999_999n, 2n ** 31n, -(2n ** 31n), 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n + 1n, 2n ** 53n + 3n,
      -(2n ** 53n) - 1n, 2n ** 62n + 12345n, 2n ** 63n - 1n, -(2n ** 63n), 0x7fffffff_fffffc00n, 0x0123456789abcdefn];
    for (let i = 0; i < 2000; i++) values.push(BigInt.asIntN(64, BigInt(Math.floor(Math.random() * 2 ** 32)) << 32n | BigInt(Math.floor(Math.random() * 2 ** 32))));
    for (const v of values) {
      b.writeBigInt64LE(v, 0);
      expect(readInt64LE(b, 0), String(v)).toBe(Number(b.readBigInt64LE(0)));
    }
  });

  describe('sockets of our own', () => {
    let server: Server, server6: Server, client: Socket, udp: number;
    beforeAll(async () => {
      server = createServer().listen(0, '127.0.0.1');
      server6 = createServer().listen(0, '::1');
      await Promise.all([server, server6].map((s) => new Promise((r) => s.once('listening', r))));
      client = createConnection((server.address() as any).port, '127.0.0.1');
      await new Promise((r) => client.once('connect', r));
      udp = libc.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */ | 0o2000000 /* SOCK_CLOEXEC */, 0); // unbound
    });
    afterAll(() => { client?.destroy(); server?.close(); server6?.close(); if (udp >= 0) libc.close(udp); });
    const fdOf = (h: any): number => (typeof h === 'number' ? h : h._handle.fd);

    it('identify() and readSocket() name the socket as Node does, with or without the address identify() read', () => {
      const cases: [number, string, { address: string; port: number }][] = [
        [fdOf(server), 'tcp', server.address() as any],
        [fdOf(server6), 'tcp6', server6.address() as any],
        [fdOf(client), 'tcp', { address: client.localAddress!, port: client.localPort! }],
        [udp, 'udp', { address: '0.0.0.0', port: 0 }],
      ];
      for (const [fd, protocol, local] of cases) {
        const id = identify(fd)!;
        expect(id.protocol).toBe(protocol);
        const viaIdentify = readSocket(fd, id, 'pidfd');
        expect(viaIdentify.local).toEqual({ address: local.address, port: local.port });
        // Without what identify() read, addresses() asks getsockname itself: same answer.
        const direct = addresses(fd, id.family);
        expect(direct.local).toEqual(viaIdentify.local);
        expect(direct.remote).toEqual(viaIdentify.remote);
      }
      const c = readSocket(fdOf(client), identify(fdOf(client))!, 'pidfd');
      expect(c.remote).toEqual({ address: '127.0.0.1', port: (server.address() as any).port });
      expect(c.state).toBe('ESTABLISHED');
      expect(c.options.SO_RCVTIMEO?.value).toBe(0);
      expect(c.options.TCP_CONGESTION?.value).toBe(readFileSync('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').trim());
      expect(c.options.SO_LINGER?.value).toEqual({ enabled: false, seconds: 0 });
    });

    it('identify() leaves other kinds of sockets alone', () => {
      const unix = createServer().listen(join(tmpdir(), `knetstat-scale-output-${process.pid}.sock`));
      return new Promise<void>((done) => unix.once('listening', () => {
        expect(identify(fdOf(unix))).toBeUndefined();
        unix.close(() => done());
      }));
    });
  });
});
