// The scale work (bench/results.md) changed how reports are made, not what
// they say: the JSON writer reuses the text of shared objects instead of
// calling JSON.stringify per socket, the analysis shares verdicts, the pidfd
// source reads addresses, timevals and inodes without intermediate objects.
// These tests pin the output to what the straightforward code produces, byte
// for byte, on live JVMs, the sample snapshots and hand-made corner cases.
// Memory and time are measured by bench/ (npm run bench), never here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startJvm, type Jvm } from './helpers/jvm.js';
import { capture } from '../src/capture.js';
import { analyze, analyzeSockets } from '../src/java/analyze.js';
import { renderJson, renderJsonString, socketJson } from '../src/render/json.js';
import { addresses, identify, readInt64LE, readSocket } from '../src/linux/sockopt.js';
import * as libc from '../src/linux/libc.js';
import type { Capture, Report, ReportSocket } from '../src/model/types.js';

/** The report as JSON.stringify lays out each socket: the text renderJson must produce. */
function referenceJson(r: Report, sockets: ReportSocket[] = r.sockets): string {
  const [opening] = [...renderJson(r, [])];
  const body = sockets.map((s) => `\n    ${JSON.stringify([[socketJson(s)]], null, 2).slice(10, -6)}`).join(',');
  return `${opening}${body}${sockets.length ? '\n  ' : ''}]\n}\n`;
}

const join_ = (chunks: Iterable<string>) => { let s = ''; for (const c of chunks) s += c; return s; };

/** JSON renderings of one capture that must all be the same text. */
function expectSameJson(cap: Capture): string {
  const whole = analyze(cap);
  const text = renderJsonString(whole);
  expect(text).toBe(referenceJson(whole));
  // Streamed as the CLI does: analysed socket by socket while written.
  expect(join_(renderJson(analyze({ ...cap, sockets: [] }), analyzeSockets(cap)))).toBe(text);
  expect(JSON.parse(text).sockets).toHaveLength(cap.sockets.length);
  return text;
}

describe('JSON output is the text JSON.stringify lays out', () => {
  let many: Jvm, lab: Jvm;
  beforeAll(async () => {
    [many, lab] = await Promise.all([
      // Listeners, client/accepted pairs, UDP: batches of sockets sharing readings and verdicts.
      startJvm('ManySockets', ['600', '4']),
      startJvm('SocketLab', [
        'ka:client:keepAlive', 'nd:client:tcpNoDelay', 'lg:client:soLinger=0', 'lg5:client:soLinger=5',
        'ra:server:reuseAddress=false', 'rp:client:reusePort', 'rb:client:rcvBuf=40000', 'sb:client:sndBuf=20000',
        'tc:client6:trafficClass=0x28', 'oob:client:oobInline', 'bc:udp:broadcast=false', 'ttl6:mcast6:ttl=9',
        'lp6:dchannel6:loop=false', 'ki:client:keepIdle=33', 'bl:server:backlog=321', 'ss:sschannel', 's6:server6',
        'sc:schannel', 'm:mcast', 'd:dchannel', 'di:dchannelinet', 'st:stall', 'ch:server:rcvBuf=65536',
        'ub:udp:rcvBuf=100000,sndBuf=1000000',
      ]),
    ]);
  });
  afterAll(async () => { await many?.stop(); await lab?.stop(); });

  it('for a JVM holding hundreds of sockets', async () => {
    const cap = await capture(many.pid);
    expect(cap.sockets.length).toBeGreaterThanOrEqual(600);
    expectSameJson(cap);
  });

  it('for a JVM whose sockets carry Java calls, hints, inherited options and zero windows', async () => {
    const cap = await capture(lab.pid);
    const text = expectSameJson(cap);
    const json = JSON.parse(text);
    // The corners are there: calls, an inherited call, hints.
    expect(json.sockets.some((s: any) => s.java.some((c: any) => c.origin === 'application'))).toBe(true);
    expect(json.sockets.some((s: any) => s.hints)).toBe(true);
    expect(json.sockets.some((s: any) => s.listener)).toBe(true);
  });

  it('for the sample snapshots', () => {
    for (const f of ['clients.json', 'servers.json', 'udp-dial-redacted.json']) {
      const cap = JSON.parse(readFileSync(join(ROOT, 'samples', 'snapshots', f), 'utf8')).capture as Capture;
      expectSameJson(cap);
    }
  });

  it('for an empty report', async () => {
    const cap = await capture(many.pid);
    expectSameJson({ ...cap, sockets: [] });
  });

  it('for values JSON has to escape, drop or replace, shared or not', () => {
    const cap = JSON.parse(readFileSync(join(ROOT, 'samples', 'snapshots', 'clients.json'), 'utf8')).capture as Capture;
    const report = analyze(cap);
    const base = report.sockets[0]!;
    const shared = { value: 7, source: 'pidfd' as const, note: 'quote " backslash \\ newline \n tab \t bell \u0007 é ✓ \ud800 lone' };
    const odd: ReportSocket[] = [];
    for (let i = 0; i < 20; i++) {
      odd.push({
        ...base,
        fd: i,
        diag: i % 2 ? '>|' : '',
        recvQ: [0, -0, 1e21, 2 ** 53 + 2, NaN, Infinity, -Infinity, 0.1][i % 8]!,
        options: {
          ...base.options,
          SHARED: shared,
          [`ONLY_${i % 3}`]: { value: i, source: 'pidfd' },
          GONE: undefined as never,
          NULLED: { value: null, source: 'pidfd', error: 'ENOPROTOOPT' },
          LINGER: { value: { enabled: true, seconds: i }, source: 'pidfd' },
        },
        verdicts: { ...base.verdicts, SHARED: { origin: 'application', note: shared.note }, EMPTY: {} as never },
        hints: i % 3 ? [] : ['a "hint"', '</script>'],
        unknown: i % 4 ? [] : ['X', 'Y'],
        java: i % 5 ? [] : [{ api: 'native', call: 'X=1', origin: 'application', options: [], note: undefined }],
        // Not plain data: JSON.stringify calls toJSON (a Date) and writes arrays' holes and undefined as null.
        timer: (i % 6 ? undefined : { kind: 'keepalive', expiresMs: 5, retrans: 0, source: 'sockdiag', at: new Date(0), list: [1, undefined, () => 1] }) as never,
        uid: i % 7 ? undefined : 0,
        vanished: i === 3 ? true : undefined,
      });
    }
    // The same objects at two depths: a reading object also as a whole field.
    odd.push({ ...base, fd: 99, listener: shared as never, options: { A: shared, B: shared } });
    const r: Report = { ...report, sockets: odd };
    expect(renderJsonString(r)).toBe(referenceJson(r));
  });

  it('for more distinct objects than the writer keeps texts of', () => {
    const cap = JSON.parse(readFileSync(join(ROOT, 'samples', 'snapshots', 'servers.json'), 'utf8')).capture as Capture;
    const report = analyze(cap);
    const base = report.sockets[0]!;
    const sockets: ReportSocket[] = [];
    for (let i = 0; i < 400; i++) {
      const options: ReportSocket['options'] = {};
      for (let k = 0; k < 30; k++) options[`O${k}`] = { value: i * 30 + k, source: 'pidfd' };
      sockets.push({ ...base, fd: i, options });
    }
    const r: Report = { ...report, sockets };
    expect(renderJsonString(r)).toBe(referenceJson(r));
  });
});

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
