// The sock_diag source against `ss` (which reads the same netlink dumps) and
// against pidfd (which reads the sockets themselves): same sockets, same
// queues, buffers and timers; every option it reports equals pidfd's value;
// every option it cannot see is named as missing, none invented. Also run as
// an ordinary user, and an ordinary user against a root JVM (exit 2).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, startJvm, type Jvm } from './helpers/jvm.js';
import { runCli } from './helpers/cli.js';
import { enrichWithSockdiag, lookupSockdiag, type EnrichResult } from '../src/sources/sockdiag.js';
import { rawSocketFromDiag } from '../src/sources/diagrecord.js';
import { diagIoStats, dumpAllInetDiag, dumpInetDiag, resetDiagIoStats, type DiagIoStats } from '../src/linux/diagsocket.js';
import { DEFAULT_EXT, INET_DIAG_REQ_V2_LEN, lookupSockId, writeInetDiagLookup, type DiagRecord } from '../src/linux/inetdiag.js';
import { AF_NETLINK, SOCK_CLOEXEC, SOCK_RAW } from '../src/linux/inet.js';
import { NETLINK_SOCK_DIAG, NLMSG_ERROR, NLMSG_HDRLEN, kernelAddress, messages } from '../src/linux/netlink.js';
import * as libc from '../src/linux/libc.js';
import { PidfdSource } from '../src/sources/pidfd.js';
import { socketFds } from '../src/linux/proc.js';
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

// ---- lookupSockdiag: exact lookups ----------------------------------------
//
// The samples in samples/java lack a few kinds exact lookups must handle
// (connected IPv4 UDP, SO_REUSEPORT groups of several members, a bound-only
// TCP socket, a socket closed on request): samples/java/LookupLab.java opens them all.
const LAB_ADDR = '127.0.0.80'; // distinct from other suites' addresses (host.test.ts: .79)


/** The target's TCP/UDP sockets as the pidfd source reads them (what lookupSockdiag is given in the pipeline). */
async function pidfdSockets(pid: number): Promise<Map<number, RawSocket>> {
  const sockets = new Map<number, RawSocket>();
  const res = await new PidfdSource().collect({ target: { pid, fds: socketFds(pid) }, sockets });
  expect(res.status.used).toBe(true);
  return sockets;
}

const cloneSockets = (m: Map<number, RawSocket>) => new Map([...m].map(([k, s]) => [k, structuredClone(s)]));

function measured<T>(fn: () => T): [T, DiagIoStats] {
  resetDiagIoStats();
  const r = fn();
  return [r, diagIoStats()];
}

/** The LookupLab socket of that name, told apart by protocol, port, state and (for accepted sockets) the client's port. */
function labSocket(sockets: Map<number, RawSocket>, lab: Jvm, name: string): RawSocket {
  const p = lab.ready.ports;
  const udp = name.startsWith('udp');
  const peer = name === 'accepted4' || name === 'accepted6' ? p[name.replace('accepted', 'client')]
    : name === 'mappedAccepted' ? p.mappedClient : name === 'wildcardAccepted' ? p.wildcardClient : undefined;
  const listen = /^(listen|mappedListen|wildcard$|reuse)/.test(name);
  const found = [...sockets.values()].filter((s) => s.protocol.startsWith(udp ? 'udp' : 'tcp') && s.local.port === p[name]
    && (peer !== undefined ? s.remote.port === peer : udp || (s.state === 'LISTEN') === listen));
  expect(found, name).toHaveLength(1);
  return found[0]!;
}

/** One exact request, sent and answered on its own socket: the kernel's answer, undecorated. */
function rawLookup(s: RawSocket, id = lookupSockId(s)!): { errno?: number; inode?: number } {
  const fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  expect(fd).toBeGreaterThanOrEqual(0);
  try {
    const req = Buffer.alloc(NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN);
    writeInetDiagLookup(req, 0, s.protocol.endsWith('6') ? 10 : 2, s.protocol.startsWith('tcp') ? 6 : 17, DEFAULT_EXT, 0xffffffff, 42, id);
    const dst = kernelAddress();
    expect(libc.sendto(fd, req, req.length, 0, dst, dst.length)).toBe(req.length);
    const buf = Buffer.alloc(16384);
    const n = Number(libc.recv(fd, buf, buf.length, 0));
    const [m] = [...messages(buf, n)];
    expect(m!.seq).toBe(42);
    return m!.type === NLMSG_ERROR ? { errno: -buf.readInt32LE(m!.payload) } : { inode: buf.readUInt32LE(m!.payload + 68) };
  } finally {
    libc.close(fd);
  }
}

describe('lookupSockdiag (exact lookups) vs the sample JVMs', () => {
  let kernel: Jvm;
  let lab: Jvm;

  beforeAll(async () => {
    kernel = await startJvm('KernelSample');
    lab = await startJvm('LookupLab', [LAB_ADDR]);
  });
  afterAll(async () => {
    await kernel?.stop();
    await lab?.stop();
  });

  it('finds every TCP and UDP socket of the sample JVMs, with the records the dump has', async () => {
    for (const jvm of [root, kernel, lab]) {
      const sockets = await pidfdSockets(jvm.pid);
      const unbound = [...sockets.values()].filter((s) => s.local.port === 0).map((s) => s.inode);
      const [l, ls] = measured(() => lookupSockdiag(jvm.pid, cloneSockets(sockets)));
      const e = enrichWithSockdiag(jvm.pid, cloneSockets(sockets));
      expect(l.warnings).toEqual([]);
      // Only an unbound socket (LookupLab's) is in no table: neither finds it.
      expect(l.notFound.sort()).toEqual(unbound.sort());
      expect(e.notFound.sort()).toEqual(unbound.sort());
      expect(new Set(l.records.keys())).toEqual(new Set(e.records.keys()));
      expect(l.records.size).toBe(sockets.size - unbound.length);
      for (const [inode, rec] of l.records) {
        const d = e.records.get(inode)!;
        const what = `${rec.protocol} ${rec.state} ${rec.local.address}:${rec.local.port}`;
        expect(rec.inode, what).toBe(inode);
        const key = (r: DiagRecord) => ({ protocol: r.protocol, st: r.st, local: r.local, remote: r.remote, uid: r.uid, tos: r.tos, tclass: r.tclass, cong: r.cong, v6only: r.v6only, hasInfo: r.tcpInfo !== undefined });
        expect(key(rec), what).toEqual(key(d));
        if (rec.state === 'LISTEN' || !rec.protocol.startsWith('tcp')) {
          expect([rec.wqueue, rec.skmem?.rcvbuf, rec.skmem?.sndbuf], what).toEqual([d.wqueue, d.skmem?.rcvbuf, d.skmem?.sndbuf]);
        }
        const sock = sockets.get(inode)!;
        expect([rec.local, rec.protocol], what).toEqual([sock.local, sock.protocol]);
      }
      expect(ls.requests).toBeLessThan(sockets.size + 10); // one lookup a socket, a few narrow dumps
    }
  });

  it('covers v4, v6, v4-mapped, listeners, connections, UDP bound and connected, SO_REUSEPORT groups, bound-only TCP', async () => {
    const sockets = await pidfdSockets(lab.pid);
    const res = lookupSockdiag(lab.pid, cloneSockets(sockets));
    const names = Object.keys(lab.ready.ports).filter((n) => n !== 'unbound');
    expect(names).toHaveLength(32);
    const seen = new Set<string>();
    for (const name of names) {
      const s = name.startsWith('reuse') || name.startsWith('udpReuse')
        ? undefined : labSocket(sockets, lab, name);
      if (!s) continue;
      const rec = res.records.get(s.inode);
      expect(rec, name).toBeDefined();
      expect(rec!.inode).toBe(s.inode);
      seen.add(`${s.protocol} ${s.state}${s.local.address.startsWith('::ffff:') ? ' mapped' : ''}`);
    }
    expect([...seen].sort()).toEqual([
      'tcp CLOSE', 'tcp ESTABLISHED', 'tcp LISTEN',
      'tcp6 CLOSE', 'tcp6 ESTABLISHED', 'tcp6 ESTABLISHED mapped', 'tcp6 LISTEN', 'tcp6 LISTEN mapped',
      'udp ESTABLISHED', 'udp UNCONN', 'udp6 ESTABLISHED', 'udp6 ESTABLISHED mapped', 'udp6 UNCONN', 'udp6 UNCONN mapped',
    ]);
    for (const g of ['reuse4', 'reuse6', 'udpReuse4', 'udpReuse6']) {
      const members = [...sockets.values()].filter((s) => s.local.port === lab.ready.ports[`${g}a`]);
      expect(members, g).toHaveLength(3);
      for (const m of members) expect(res.records.get(m.inode)?.inode, `${g} ${m.inode}`).toBe(m.inode);
    }
  });

  it('kernel semantics: TCP takes id.src as the local side, UDP id.dst; a reuseport group answers with one member', async () => {
    const sockets = await pidfdSockets(lab.pid);
    for (const name of ['client4', 'accepted6', 'mappedClient', 'udpConnected4', 'udpConnected6', 'udpMappedConnected', 'listen4', 'udp6']) {
      const s = labSocket(sockets, lab, name);
      expect(rawLookup(s), name).toEqual({ inode: s.inode });
      const id = lookupSockId(s)!;
      const swapped = { ...id, sport: id.dport, dport: id.sport, src: id.dst, dst: id.src };
      // The other orientation asks for the peer's tuple: on loopback it finds the peer (or nothing), never this socket.
      expect(rawLookup(s, swapped).inode, `${name} swapped`).not.toBe(s.inode);
    }
    for (const g of ['reuse4', 'reuse6', 'udpReuse4', 'udpReuse6']) {
      const members = [...sockets.values()].filter((s) => s.local.port === lab.ready.ports[`${g}a`]);
      const answers = members.map((m) => rawLookup(m).inode);
      for (const a of answers) expect(members.map((m) => m.inode), g).toContain(a);
      expect(new Set(answers).size, g).toBeLessThan(members.length); // some member is answered for by another
    }
    // A bound-only TCP socket is in no table a lookup reads.
    expect(rawLookup(labSocket(sockets, lab, 'boundOnly4'))).toEqual({ errno: 2 });
  });

  it('adds backlog, timers and tcp_info without overwriting what pidfd read', async () => {
    const sockets = await pidfdSockets(root.pid);
    const listener = [...sockets.values()].find((s) => s.state === 'LISTEN' && s.local.port === root.ready.listen)!;
    const client = [...sockets.values()].find((s) => s.local.port === root.ready.client)!;
    expect(listener.options.backlog).toMatchObject({ value: 77, source: 'pidfd' }); // from TCP_INFO
    expect(client.timer).toBeUndefined(); // pidfd sees no timers
    delete listener.options.backlog; // as if pidfd could not read it: sock_diag's must be added
    listener.options.SO_RCVBUF = { value: 12345, source: 'pidfd' }; // must survive
    delete client.tcpInfo; // likewise
    const before = cloneSockets(sockets);
    const res = lookupSockdiag(root.pid, sockets);
    expect(res.notFound).toEqual([]);
    expect(res.enriched).toBe(sockets.size);
    for (const [inode, s] of sockets) {
      const was = before.get(inode)!;
      for (const [name, r] of Object.entries(was.options)) expect(s.options[name], `${s.protocol} ${s.state} ${name}`).toEqual(r);
      for (const [name, r] of Object.entries(s.options)) if (!(name in was.options)) expect(r.source, name).toBe('sockdiag');
      expect(s.sources).toEqual(['pidfd', 'sockdiag']);
      if (was.tcpInfo) expect(s.tcpInfo).toEqual(was.tcpInfo);
      expect([s.local, s.remote, s.state, s.fd]).toEqual([was.local, was.remote, was.state, was.fd]);
    }
    expect(listener.options.backlog).toMatchObject({ value: 77, source: 'sockdiag' });
    expect(listener.options.SO_RCVBUF).toEqual({ value: 12345, source: 'pidfd' });
    expect(client.timer).toMatchObject({ kind: 'keepalive', source: 'sockdiag' });
    expect(client.options.SO_KEEPALIVE).toMatchObject({ value: 1, source: 'pidfd' });
    expect(client.options.SO_KEEPALIVE?.inferred).toBeUndefined();
    expect(client.tcpInfo).toMatchObject({ state: 1, source: 'sockdiag' });
    if (root.ready.listen6 !== undefined) {
      const l6 = [...sockets.values()].find((s) => s.state === 'LISTEN' && s.local.port === root.ready.listen6)!;
      expect(l6.options.backlog).toMatchObject({ value: 33, source: 'pidfd' }); // pidfd's reading kept
    }
  });

  it('a socket closed meanwhile is reported in notFound and gets nothing', async () => {
    const own = await startJvm('LookupLab', [LAB_ADDR]);
    try {
      const sockets = await pidfdSockets(own.pid);
      // SO_REUSEPORT members share a port: which one closed is seen in the fd table afterwards.
      const closing = ['udp4', 'client4', 'listen6', 'boundOnly6', 'udpReuse4b', 'reuse6c'];
      const named = closing.slice(0, 4).map((n) => labSocket(sockets, own, n));
      const unbound = [...sockets.values()].filter((s) => s.local.port === 0).map((s) => s.inode);
      const rl = createInterface({ input: own.proc.stdout! });
      const done = new Promise<void>((res) => {
        let n = 0;
        rl.on('line', (l) => { if (l.startsWith('CLOSED') && ++n === closing.length) res(); });
      });
      for (const n of closing) own.proc.stdin!.write(`close ${n}\n`);
      await done;
      const open = new Set(socketFds(own.pid).values());
      const closed = [...sockets.values()].filter((s) => !open.has(s.inode));
      expect(closed).toHaveLength(closing.length);
      for (const s of named) expect(closed).toContain(s);
      expect(closed.filter((s) => s.local.port === own.ready.ports.udpReuse4a || s.local.port === own.ready.ports.reuse6a)).toHaveLength(2);
      // The closed client's tuple is now held by its orphaned (FIN_WAIT) socket: an answer with inode 0.
      expect(rawLookup(named[1]!)).toEqual({ inode: 0 });
      expect(rawLookup(named[0]!)).toEqual({ errno: 2 });
      const before = cloneSockets(sockets);
      const res = lookupSockdiag(own.pid, sockets);
      expect(res.notFound.sort()).toEqual([...closed.map((s) => s.inode), ...unbound].sort());
      for (const s of closed) {
        expect(res.records.has(s.inode)).toBe(false);
        expect(s).toEqual(before.get(s.inode)); // untouched: nothing merged from another socket's reply
      }
      expect(res.records.size).toBe(sockets.size - closed.length - unbound.length);
      expect(res.warnings).toEqual([]);
    } finally {
      await own.stop();
    }
  });
});

describe('lookupSockdiag cost: the target\'s sockets, not the host\'s', () => {
  let noise: Jvm | undefined;
  afterAll(async () => { await noise?.stop(); });

  it('receives one message per wanted socket however many sockets the host holds; the dump receives them all', async () => {
    const sockets = await pidfdSockets(root.pid);
    const lookup = () => lookupSockdiag(root.pid, cloneSockets(sockets));
    const enrich = () => enrichWithSockdiag(root.pid, cloneSockets(sockets));
    const [l0, lio0] = measured(lookup);
    const [, eio0] = measured(enrich);

    noise = await startJvm('ManySockets', ['5000', '16'], { jvmArgs: ['-Xmx256m'], timeoutMs: 120_000 });
    const held: number = noise.ready.sockets;
    expect(held).toBeGreaterThanOrEqual(5000);
    const [l1, lio1] = measured(lookup);
    const [e1, eio1] = measured(enrich);

    const found = (r: EnrichResult) => [...r.records.keys()].sort();
    expect(found(l1)).toEqual(found(l0));
    expect(found(l1)).toEqual(found(e1));
    expect(l1.notFound).toEqual([]);
    // Exact lookups: one request and one reply per socket, in one sendto, before and after.
    expect(lio1).toEqual(lio0);
    expect(lio1).toMatchObject({ sendto: 1, requests: sockets.size, messages: sockets.size, records: sockets.size });
    // The dump: every socket of the namespace, the 5,000 new ones included (at least those and ours:
    // not "5,000 more than before", since other test files' sockets come and go meanwhile).
    expect(eio1.records).toBeGreaterThanOrEqual(held + sockets.size);
    expect(eio0.records).toBeGreaterThanOrEqual(sockets.size);
    expect(eio1.messages).toBeGreaterThan(lio1.messages * 500);
  });

  it('finds all of a 5,000-socket target in batches: one reply per socket', async () => {
    expect(noise).toBeDefined();
    const sockets = await pidfdSockets(noise!.pid);
    expect(sockets.size).toBe(noise!.ready.sockets);
    const [res, io] = measured(() => lookupSockdiag(noise!.pid, sockets, { chunk: 256 }));
    expect(res.notFound).toEqual([]);
    expect(res.warnings).toEqual([]);
    expect(res.records.size).toBe(sockets.size);
    for (const [inode, rec] of res.records) expect(rec.inode).toBe(inode);
    expect(io.requests).toBe(sockets.size); // nothing asked twice, no dump
    expect(io.messages).toBe(sockets.size);
    expect(io.sendto).toBeGreaterThanOrEqual(Math.ceil(sockets.size / 256));
    expect(io.sendto).toBeLessThan(sockets.size / 16);
  });
});
