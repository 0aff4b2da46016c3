// The sock_diag source against `ss` (which reads the same netlink dumps) and
// against pidfd (which reads the sockets themselves): same sockets, same
// queues, buffers and timers; every option it reports equals pidfd's value;
// every option it cannot see is named as missing, none invented. Also run as
// an ordinary user, and an ordinary user against a root JVM (exit 2).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startJvm, type Jvm } from './helpers/jvm.js';
import { runCli } from './helpers/cli.js';
import { diagOptions, dumpAllInetDiag, dumpInetDiag, enrichWithSockdiag, parseDiagMessage, rawSocketFromDiag, type DiagRecord } from '../src/sources/sockdiag.js';
import { buildInetDiagDump, INET_DIAG_REQ_V2_LEN, NLMSG_HDRLEN } from '../src/sys/netlink.js';
import type { RawSocket } from '../src/model/types.js';

const ADDR = '127.0.0.77';
const ADDR_USER = '127.0.0.78';
const USER = 'knjtest';

interface SsRow { state: string; recvQ: number; sendQ: number; local: string; peer: string; inode: number; timer?: string; rb?: number; tb?: number; uid: number }

/** `ss -Hanmie` rows (one socket per logical line; skmem is on a continuation line). */
function ss(proto: 't' | 'u', src: string): SsRow[] {
  const out = execFileSync('ss', [`-${proto}anmieH`, 'src', src], { encoding: 'utf8' });
  const logical: string[] = [];
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line) && logical.length > 0) logical[logical.length - 1] += ` ${line.trim()}`;
    else logical.push(line.trim());
  }
  return logical.map((l) => {
    const f = l.split(/\s+/);
    const skmem = /skmem:\(r\d+,rb(\d+),t\d+,tb(\d+)/.exec(l);
    return {
      state: f[0]!, recvQ: Number(f[1]), sendQ: Number(f[2]), local: f[3]!, peer: f[4]!,
      inode: Number(/ino:(\d+)/.exec(l)?.[1] ?? 0), timer: /timer:\((\w+),/.exec(l)?.[1],
      rb: skmem ? Number(skmem[1]) : undefined, tb: skmem ? Number(skmem[2]) : undefined,
      uid: Number(/uid:(\d+)/.exec(l)?.[1] ?? 0),
    };
  });
}

const SS_STATE: Record<string, string> = { LISTEN: 'LISTEN', ESTAB: 'ESTABLISHED', UNCONN: 'UNCONN', 'TIME-WAIT': 'TIME_WAIT' };
const SS_TIMER: Record<string, string> = { on: 'retransmit', keepalive: 'keepalive', timewait: 'timewait', persist: 'persist' };

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

const CATALOG: { name: string; protocols: string[]; families: number[]; states?: string[] }[] =
  JSON.parse(readFileSync(join(ROOT, 'mappings', 'kernel-options.json'), 'utf8')).options;

/** Every catalog option a socket of the report lacks is named in report.missing; none is null-valued guesswork. */
function expectMissingNamed(rep: any): void {
  for (const s of rep.sockets) {
    const proto = s.protocol.startsWith('tcp') ? 'tcp' : 'udp';
    const fam = s.protocol.endsWith('6') ? 6 : 4;
    for (const o of CATALOG) {
      if (!o.protocols.includes(proto) || !o.families.includes(fam) || (o.states && !o.states.includes(s.state))) continue;
      if (!(o.name in s.options)) expect(rep.missing.options, `${s.protocol} ${s.state} ${o.name}`).toContain(o.name);
    }
  }
}

let root: Jvm;
let userJvm: Jvm | undefined;
let asUser: string[];

beforeAll(async () => {
  try { execFileSync('id', [USER], { stdio: 'pipe' }); } catch { execFileSync('useradd', ['-r', USER]); }
  const uid = uidOf(USER);
  const gid = Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }).trim());
  asUser = ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups'];
  root = await startJvm('DiagSample', ['both', ADDR]);
  userJvm = await startJvm('DiagSample', ['both', ADDR_USER], { wrapper: asUser, env: { ...process.env, HOME: '/tmp' } });
});

afterAll(async () => {
  await root?.stop();
  await userJvm?.stop();
});

function mine(recs: Iterable<DiagRecord>, addr: string): DiagRecord[] {
  return [...recs].filter((r) => r.local.address === addr || r.local.address === `::ffff:${addr}`);
}

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

describe('dumpInetDiag vs ss -tanmie / -uanmie', () => {
  it('lists the same TCP sockets with the same state, queues, buffers, timer and uid', () => {
    const recs = mine(dumpInetDiag(4, 'tcp').values(), ADDR);
    const rows = ss('t', ADDR);
    expect(recs.length).toBe(3); // listener, client, accepted
    expect(new Set(recs.map((r) => r.inode))).toEqual(new Set(rows.map((r) => r.inode)));
    for (const rec of recs) {
      const row = rows.find((r) => r.inode === rec.inode)!;
      expect(rec.state).toBe(SS_STATE[row.state]);
      expect(rec.rqueue).toBe(row.recvQ);
      expect(rec.wqueue).toBe(row.sendQ);
      expect(rec.skmem?.rcvbuf).toBe(row.rb);
      expect(rec.skmem?.sndbuf).toBe(row.tb);
      expect(rec.timer ? SS_TIMER[row.timer ?? ''] : undefined).toBe(row.timer ? SS_TIMER[row.timer] : undefined);
      expect(rec.uid).toBe(row.uid);
      expect(`${rec.local.address}:${rec.local.port}`).toBe(row.local);
    }
    const listener = recs.find((r) => r.state === 'LISTEN')!;
    expect(listener.wqueue).toBe(77); // backlog
    expect(listener.skmem!.rcvbuf).toBe(200000);
    const accepted = recs.find((r) => r.local.port === root.ready.listen && r.state === 'ESTABLISHED')!;
    expect(accepted.rqueue).toBe(3000);
    const client = recs.find((r) => r.local.port === root.ready.client)!;
    expect(client.timer).toBe(2); // keepalive
    expect(client.tos).toBe(0x10);
    expect(client.tcpInfo?.state).toBe(1);
    expect(client.cong).toBeTruthy();
  });

  it('lists the same UDP sockets with the same queues and buffers', () => {
    const recs = mine(dumpInetDiag(4, 'udp').values(), ADDR);
    const rows = ss('u', ADDR);
    expect(recs.length).toBeGreaterThanOrEqual(1);
    expect(new Set(recs.map((r) => r.inode))).toEqual(new Set(rows.map((r) => r.inode)));
    for (const rec of recs) {
      const row = rows.find((r) => r.inode === rec.inode)!;
      expect(rec.rqueue).toBe(row.recvQ);
      expect(rec.wqueue).toBe(row.sendQ);
      expect(rec.skmem?.rcvbuf).toBe(row.rb);
    }
    const u = recs.find((r) => r.local.port === root.ready.udp)!;
    expect(u.rqueue).toBeGreaterThan(0); // two datagrams left unread
    expect(u.sockopt?.mcLoop).toBe(false);
    expect(u.skmem?.rcvbuf).toBe(100000);
  });

  it('dumps IPv6 too (v6only only reported for LISTEN/CLOSE sockets, as the kernel sends it)', () => {
    if (root.ready.listen6 === undefined) return;
    const recs = [...dumpInetDiag(6, 'tcp').values()].filter((r) => r.local.port === root.ready.listen6 && r.local.address === '::1');
    expect(recs).toHaveLength(1);
    expect(recs[0]!.local.address).toBe('::1');
    expect(recs[0]!.wqueue).toBe(33);
    expect(typeof recs[0]!.v6only).toBe('boolean');
    expect(recs[0]!.tclass).toBe(0);
  });

  it('dumpAllInetDiag keeps inode-less rows only when asked', () => {
    const a = dumpAllInetDiag({ all: true });
    expect(a.records.size).toBeGreaterThan(0);
    expect([...a.records.keys()].every((i) => i !== 0)).toBe(true);
    expect(a.anonymous.every((r) => r.inode === 0)).toBe(true);
  });
});

describe('sockdiag values vs pidfd', () => {
  it('every option sockdiag reports equals what pidfd reads; the rest is named missing', () => {
    const sd = runCli([String(root.pid), '--source', 'sockdiag', '--format', 'json', '-q']);
    const pf = runCli([String(root.pid), '--source', 'pidfd', '--format', 'json', '-q']);
    expect(sd.code).toBe(3);
    expect(pf.code).toBe(0);
    const a = JSON.parse(sd.stdout), b = JSON.parse(pf.stdout);
    expect(a.sources.find((s: any) => s.name === 'sockdiag').used).toBe(true);
    expect(a.sockets.length).toBe(b.sockets.length);
    let compared = 0;
    for (const s of a.sockets) {
      const t = b.sockets.find((x: any) => x.inode === s.inode);
      expect(t, `inode ${s.inode}`).toBeTruthy();
      for (const [name, r] of Object.entries<any>(s.options)) {
        expect(r.source).toBe('sockdiag');
        expect(r.value, `${s.protocol} ${s.state} ${name}`).not.toBeNull();
        expect(r.value, `${s.protocol} ${s.state} ${name}`).toEqual(t.options[name].value);
        compared++;
      }
      // Not read by sock_diag: absent, never a guessed value.
      for (const name of ['SO_REUSEADDR', 'TCP_NODELAY', 'SO_LINGER', 'TCP_KEEPIDLE']) {
        if (s.protocol.startsWith('tcp') || !name.startsWith('TCP')) expect(s.options[name]).toBeUndefined();
      }
    }
    expect(compared).toBeGreaterThan(20);
    const client = a.sockets.find((s: any) => s.local.port === root.ready.client);
    expect(client.options.SO_KEEPALIVE).toMatchObject({ value: 1, inferred: true });
    expect(client.options.SO_KEEPALIVE.note).toMatch(/keepalive timer/);
    expect(client.timer.kind).toBe('keepalive');
    const listener = a.sockets.find((s: any) => s.state === 'LISTEN' && s.local.port === root.ready.listen);
    expect(listener.options.backlog.value).toBe(77);
    expect(a.missing.options).toEqual(expect.arrayContaining(['SO_REUSEADDR', 'TCP_NODELAY', 'SO_LINGER', 'SO_RCVTIMEO', 'TCP_KEEPIDLE']));
    expectMissingNamed(a);
    expect(sd.stderr).toMatch(/partial report: \d+ option\(s\) unreadable/);
  });

  it('enrichWithSockdiag adds backlog, timers and tcp_info without overwriting what pidfd read', () => {
    const pf = JSON.parse(runCli([String(root.pid), '--source', 'pidfd', '--format', 'json', '-q']).stdout);
    const sockets = new Map<number, RawSocket>();
    for (const s of pf.sockets) {
      const raw: RawSocket = { ...s, options: { ...s.options }, sources: ['pidfd'] };
      delete (raw.options as any).backlog;
      raw.options.SO_RCVBUF = { value: 12345, source: 'pidfd' }; // must survive
      delete raw.timer;
      sockets.set(raw.inode, raw);
    }
    const res = enrichWithSockdiag(root.pid, sockets);
    expect(res.notFound).toEqual([]);
    const listener = [...sockets.values()].find((s) => s.state === 'LISTEN' && s.local.port === root.ready.listen)!;
    expect(listener.options.backlog?.value).toBe(77);
    expect(listener.options.SO_RCVBUF).toEqual({ value: 12345, source: 'pidfd' });
    expect(listener.sources).toContain('sockdiag');
    const client = [...sockets.values()].find((s) => s.local.port === root.ready.client)!;
    expect(client.timer?.kind).toBe('keepalive');
    expect(client.options.SO_KEEPALIVE?.value).toBe(1);
    expect(client.options.SO_KEEPALIVE?.inferred).toBeUndefined(); // pidfd's reading kept
  });

  it('rawSocketFromDiag never invents options for sockets without an inode', () => {
    const a = dumpAllInetDiag({ all: true });
    for (const r of a.anonymous.slice(0, 50)) expect(rawSocketFromDiag(r).options).toEqual({});
  });
});

describe('as an ordinary user', () => {
  it('--source sockdiag on its own JVM: values, the missing options named, none invented', () => {
    const r = runCli([String(userJvm!.pid), '--source', 'sockdiag', '--format', 'json', '-q'], { wrapper: asUser, cwd: '/tmp' });
    expect(r.code).toBe(3);
    const rep = JSON.parse(r.stdout);
    const root = JSON.parse(runCli([String(userJvm!.pid), '--source', 'pidfd', '--format', 'json', '-q']).stdout);
    expect(rep.sockets.length).toBe(root.sockets.length);
    for (const s of rep.sockets) {
      const t = root.sockets.find((x: any) => x.inode === s.inode);
      for (const [name, o] of Object.entries<any>(s.options)) {
        expect(o.value, `${name}`).toEqual(t.options[name].value);
      }
      expect(s.options.SO_MARK).toBeUndefined(); // INET_DIAG_MARK needs CAP_NET_ADMIN
    }
    expect(rep.missing.options).toEqual(expect.arrayContaining(['SO_MARK', 'SO_REUSEADDR', 'TCP_NODELAY']));
    expectMissingNamed(rep);
    const text = runCli([String(userJvm!.pid), '--source', 'sockdiag', '-q'], { wrapper: asUser, cwd: '/tmp' });
    expect(text.code).toBe(3);
    for (const name of ['SO_MARK', 'TCP_NODELAY']) expect(text.stdout + text.stderr).toContain(name);
  });

  it('against a root JVM: exit 2 with the remedy', () => {
    const r = runCli([String(root.pid), '--source', 'sockdiag', '-q'], { wrapper: asUser, cwd: '/tmp' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/permission denied/);
    expect(r.stderr).toMatch(/run knetstat-java as root/);
  });
});
