// The bpf source against the other oracles, on real JVMs (JDK 17 and
// Temurin 25): for every socket and every option both read, bpf's value is
// pidfd's (getsockopt on a duplicate of the same socket); the kernel's lock
// and explicit flags say what the Java program set; the tool duplicates no
// fd and sets nothing (strace); auto picks it; the host-wide view matches
// /proc/net and the pidfd view; unavailability has a one-line reason.
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJvm, WORK, type Jvm } from './helpers/jvm.js';
import { CLI, runCli, reportJson } from './helpers/cli.js';
import { PROTOCOLS, readProcNet } from '../src/linux/procnet.js';

const TEMURIN = '/usr/lib/jvm/temurin-25-jdk-amd64/bin';
const JDKS: { name: string; env: NodeJS.ProcessEnv }[] = [
  { name: 'JDK 17', env: process.env },
  ...(existsSync(`${TEMURIN}/java`) ? [{ name: 'Temurin 25', env: { ...process.env, PATH: `${TEMURIN}:${process.env.PATH}` } }] : []),
];

const FIN_RECEIVED = new Set(['CLOSE_WAIT', 'LAST_ACK', 'CLOSING']);

/** bpf against pidfd, socket by socket (joined by inode), option by option. */
export function compareReports(bpf: any, pidfd: any): { compared: number; sockets: number; diffs: string[] } {
  const byInode = new Map<number, any>(pidfd.sockets.map((s: any) => [s.inode, s]));
  const diffs: string[] = [];
  let compared = 0, sockets = 0;
  for (const b of bpf.sockets) {
    const p = byInode.get(b.inode);
    if (!p) { diffs.push(`inode ${b.inode} (${b.protocol} ${b.local.port}) only in the bpf report`); continue; }
    sockets++;
    for (const k of ['protocol', 'fd', 'state', 'local', 'remote', 'recvQ', 'sendQ']) {
      compared++;
      // Recv-Q as /proc/net/tcp and ss print it counts a received FIN; SIOCINQ (pidfd's) does not.
      if (k === 'recvQ' && FIN_RECEIVED.has(b.state) && b.recvQ === p.recvQ + 1) continue;
      if (JSON.stringify(b[k]) !== JSON.stringify(p[k])) diffs.push(`inode ${b.inode}: ${k} bpf ${JSON.stringify(b[k])} pidfd ${JSON.stringify(p[k])}`);
    }
    for (const [name, pr] of Object.entries<any>(p.options)) {
      const br = b.options[name];
      if (!br) { diffs.push(`inode ${b.inode}: ${name} read by pidfd only`); continue; }
      if (br.value === null || pr.value === null) continue;
      compared++;
      if (JSON.stringify(br.value) !== JSON.stringify(pr.value)) diffs.push(`inode ${b.inode} (${b.protocol} ${b.state}): ${name} bpf ${JSON.stringify(br.value)} pidfd ${JSON.stringify(pr.value)}`);
    }
  }
  if (sockets !== pidfd.sockets.length) diffs.push(`pidfd has ${pidfd.sockets.length} sockets, bpf ${sockets} of them`);
  return { compared, sockets, diffs };
}

const BIG = { maxBuffer: 1 << 28 };

function report(pid: number, source: string): any {
  const r = runCli([String(pid), '--format', 'json', '--source', source, '-q', '--any'], BIG);
  if (r.code !== 0) throw new Error(`knetstat-java --source ${source} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * A pidfd report once the target's kernel state holds still, so that both sources read one state: a
 * fresh connection's MSS can still move after the handshake (mss_cache recomputed when the first
 * segment goes out, here a keepalive probe TCP_KEEPIDLE=1 s in: 32732 -> 32768 on loopback).
 * Settled: two reports half a second apart agree on every value compareReports() looks at.
 */
function settled(pid: number): any {
  let prev = report(pid, 'pidfd');
  for (let i = 0; i < 20; i++) {
    spawnSync('sleep', ['0.5']);
    const next = report(pid, 'pidfd');
    if (compareReports(next, prev).diffs.length === 0) return next;
    prev = next;
  }
  throw new Error(`the sockets of process ${pid} did not settle within 10 s`);
}

describe.each(JDKS)('a seeded option mix on $name', ({ name, env }) => {
  let jvm: Jvm;
  let bpf: any, pidfd: any;
  beforeAll(async () => {
    jvm = await startJvm('OptionMix', [name === 'JDK 17' ? '17' : '25', '90'], { env });
    pidfd = settled(jvm.pid);
    bpf = report(jvm.pid, 'bpf');
  });
  afterAll(async () => { await jvm?.stop(); });

  it('answers from the bpf source alone', () => {
    expect(bpf.sources).toEqual([{ name: 'bpf', used: true }]);
    expect(bpf.partial).toBe(false);
    expect(bpf.sockets.every((s: any) => s.sources.length === 1 && s.sources[0] === 'bpf')).toBe(true);
  });

  it('reads every value pidfd reads, equal, on every socket', () => {
    const c = compareReports(bpf, pidfd);
    expect(c.diffs).toEqual([]);
    // Every socket the program names (plus the peers of its clients), and no other.
    expect(c.sockets).toBeGreaterThanOrEqual(jvm.ready.sockets.length);
    expect(c.compared).toBeGreaterThan(4000);
  });

  it('the kernel flags say exactly what the program set', () => {
    let checked = 0;
    let ambiguous = 0;
    for (const w of jvm.ready.sockets) {
      // TCP and UDP number their ports apart: a datagram socket and a listener may share one.
      const udp = /Datagram|Multicast/.test(w.kind);
      const found = bpf.sockets.filter((x: any) => x.protocol.startsWith(udp ? 'udp' : 'tcp') && x.local.port === w.local && x.remote.port === w.remote);
      expect(found.length, `${w.id} ${w.kind} ${w.local}->${w.remote}`).toBeGreaterThan(0);
      // The program records ports, not addresses: 127.0.0.1:P and ::1:P may both be bound (ephemeral
      // ports of the two families collide now and then), and then which one it set cannot be told.
      if (found.length > 1) { ambiguous++; continue; }
      const s = found[0];
      const set = new Set<string>(w.set);
      const at = `${w.id} (${w.kind})`;
      expect(s.userLocks, at).toEqual({ rcvbuf: set.has('SO_RCVBUF'), sndbuf: set.has('SO_SNDBUF'), source: 'bpf' });
      expect(s.options.SO_RCVBUF.explicit, at).toBe(set.has('SO_RCVBUF'));
      expect(s.options.SO_SNDBUF.explicit, at).toBe(set.has('SO_SNDBUF'));
      expect(s.bindLocks, at).toEqual({ addr: w.bindAddr, port: w.bindPort, source: 'bpf' });
      checked += 5;
      if (s.protocol.startsWith('tcp')) {
        expect(s.options.TCP_KEEPIDLE.explicit, at).toBe(set.has('TCP_KEEPIDLE'));
        expect(s.options.TCP_KEEPINTVL.explicit, at).toBe(set.has('TCP_KEEPINTVL'));
        expect(s.options.TCP_KEEPCNT.explicit, at).toBe(set.has('TCP_KEEPCNT'));
        // Java cannot set a congestion control: never explicit.
        expect(s.options.TCP_CONGESTION.explicit, at).toBe(false);
        checked += 4;
      }
    }
    expect(checked).toBeGreaterThan(400);
    expect(ambiguous).toBeLessThanOrEqual(4);
  });
});

describe('SocketLab kinds on JDK 17', () => {
  let jvm: Jvm;
  beforeAll(async () => {
    jvm = await startJvm('SocketLab', [
      'a:server:rcvBuf=65536,backlog=77,child.keepAlive=true,child.keepIdle=600,child.tcpNoDelay=true,client.soLinger=7',
      'b:client6:sndBuf=32768,soLinger=5,trafficClass=0x20,keepCount=4,keepInterval=11',
      'c:udp:broadcast=true,rcvBuf=100000', 'd:mcast6:ttl=7,loop=false', 'e:sschannel6:reuseAddress=true,child.quickAck=true',
      'f:dchannel', 'g:dchannelinet:ttl=9', 'h:dchannel6', 'i:client:oobInline=true', 'j:stall',
      'k:client:shutdownOutput', 'l:server6:reusePort=true,backlog=3',
    ]);
  });
  afterAll(async () => { await jvm?.stop(); });

  it('bpf equals pidfd, zero windows included', () => {
    const b = report(jvm.pid, 'bpf'), p = report(jvm.pid, 'pidfd');
    const c = compareReports(b, p);
    expect(c.diffs).toEqual([]);
    expect(c.compared).toBeGreaterThan(700);
    // The stalled pair: the knetstat Diag indicators from the kernel's own windows.
    const reader = b.sockets.find((s: any) => s.local.port === jvm.ready.sockets['j.reader'].localPort && s.remote.port === jvm.ready.sockets['j.reader'].remotePort);
    expect(reader.diag).toContain('|<');
    const k = b.sockets.find((s: any) => s.local.port === jvm.ready.sockets.k.localPort && s.remote.port === jvm.ready.sockets.k.remotePort);
    expect(k.shutdown).toEqual({ read: false, write: true, source: 'bpf' });
    // An accepted socket inherits the listener's buffer lock (and its keepalive timer runs).
    const acc = b.sockets.find((s: any) => s.local.port === jvm.ready.sockets['a.accepted'].localPort && s.remote.port === jvm.ready.sockets['a.accepted'].remotePort);
    expect(acc.userLocks.rcvbuf).toBe(true);
    expect(acc.options.TCP_KEEPIDLE).toMatchObject({ value: 600, explicit: true });
    expect(acc.timer.kind).toBe('keepalive');
  });

  it('auto picks bpf, and the text header says so', () => {
    const auto = reportJson(jvm.pid, ['-q']);
    expect(auto.sources[0]).toEqual({ name: 'bpf', used: true });
    const text = runCli([String(jvm.pid), '-q']);
    expect(text.stdout).toMatch(/source: bpf/);
  });

  it('duplicates no fd and sets no option (strace of the tool)', () => {
    const trace = (source: string) => {
      const f = join(WORK, `bpf-strace-${source}-${process.pid}.txt`);
      const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=pidfd_getfd,setsockopt', '-o', f, process.execPath, CLI, String(jvm.pid), '--source', source, '-q', '-f', 'json'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      return readFileSync(f, 'utf8').split('\n').filter((l) => /pidfd_getfd|setsockopt/.test(l));
    };
    expect(trace('bpf')).toEqual([]);
    // The same trace sees pidfd's duplicates: the check can fail.
    expect(trace('pidfd').some((l) => l.includes('pidfd_getfd'))).toBe(true);
  });

  it('--all --source bpf: the /proc/net sockets, with pidfd\'s values and the process column', () => {
    const jb = runCli(['--all', '--source', 'bpf', '-f', 'json'], BIG);
    expect(jb.code).toBe(0);
    const all = JSON.parse(jb.stdout);
    const proc = new Map<number, any>();
    for (const p of PROTOCOLS) for (const r of readProcNet('self', p)) if (r.inode) proc.set(r.inode, r);
    const ours = all.sockets.filter((s: any) => s.owners.some((o: any) => o.pid === jvm.pid));
    expect(ours.length).toBe(Object.keys(jvm.ready.sockets).length);
    for (const s of ours) {
      const r = proc.get(s.inode);
      expect(r, `inode ${s.inode} in /proc/net/${s.protocol}`).toBeTruthy();
      expect({ local: s.local, remote: s.remote, state: s.state, protocol: s.protocol }).toEqual({ local: r.local, remote: r.remote, state: r.state, protocol: r.protocol });
    }
    const jp = JSON.parse(runCli(['--all', '--source', 'pidfd', '-f', 'json'], BIG).stdout);
    const c = compareReports({ sockets: ours }, { sockets: jp.sockets.filter((s: any) => ours.some((o: any) => o.inode === s.inode)) });
    expect(c.diffs.filter((d) => !/recvQ|sendQ/.test(d))).toEqual([]);
    expect(c.compared).toBeGreaterThan(300);
    const kt = runCli(['--all', '--source', 'bpf', '-f', 'knetstat'], BIG);
    const port = jvm.ready.sockets.a.localPort;
    // Host-wide: another process may listen on the same port number at another address.
    const listener = kt.stdout.split('\n').find((l) => l.includes(`:${port} `) && l.includes('LSTN') && l.endsWith(` ${jvm.pid}/java`))!;
    // Buffers only when locked, as the module printed them: half the kernel value.
    expect(listener).toContain('SO_RCVBUF=65536');
    expect(listener).not.toContain('SO_SNDBUF=');
    expect(listener).toMatch(new RegExp(`${jvm.pid}/java$`));
    const accepted = kt.stdout.split('\n').find((l) => new RegExp(`:${port}\\s+\\S+:${jvm.ready.sockets['a.accepted'].remotePort}\\s`).test(l) && l.endsWith(` ${jvm.pid}/java`))!;
    expect(accepted).toContain('TCP_KEEPIDLE=600');
  });
});

describe('--all --source bpf: rows in /proc/net order', () => {
  // Linux 6.5+ batches iter/udp over the (address, port) hash, not the port hash /proc/net/udp walks.
  const socks: UdpSocket[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 24; i++) {
      const s = createSocket(i % 2 ? 'udp6' : 'udp4');
      await new Promise<void>((r) => s.bind(0, i % 2 ? '::1' : '127.0.0.1', () => r()));
      socks.push(s);
    }
  });
  afterAll(() => { for (const s of socks) s.close(); });

  it('UDP rows in the order /proc/net/udp{,6} lists them (TCP rows are the same walk)', () => {
    const before = new Map(['udp', 'udp6'].map((p) => [p, readProcNet('self', p as 'udp').map((r) => r.inode)]));
    const r = runCli(['--all', '--source', 'bpf', '-f', 'json'], BIG);
    expect(r.code).toBe(0);
    const all = JSON.parse(r.stdout);
    for (const p of ['udp', 'udp6']) {
      const proc = before.get(p)!;
      const ours = all.sockets.filter((s: any) => s.protocol === p && proc.includes(s.inode)).map((s: any) => s.inode);
      expect(ours.length).toBeGreaterThanOrEqual(12);
      expect(ours).toEqual(proc.filter((i) => ours.includes(i)));
    }
  });
});

describe('kernel-only options: the self-check (sockets of its own, no JVM)', () => {
  it.each([1, 7, 42])('seed %i: every value equals getsockopt, every flag what was set', (seed) => {
    const r = runCli(['bpf-selfcheck', '--seed', String(seed), '--rounds', '25', '-f', 'json']);
    expect(r.stderr).toBe('');
    const res = JSON.parse(r.stdout);
    expect(res.differences).toEqual([]);
    expect(res.flagDifferences).toEqual([]);
    expect(r.code).toBe(0);
    expect(res.compared).toBeGreaterThan(2000);
  });
});

describe('when bpf cannot run, one line says why and the next source answers', () => {
  let jvm: Jvm;
  beforeAll(async () => { jvm = await startJvm('SocketLab', ['a:server']); });
  afterAll(async () => { await jvm?.stop(); });

  it.each([
    ['KNETSTAT_BTF', '/nonexistent/vmlinux', /the kernel has no BTF \(\/nonexistent\/vmlinux is missing/],
    ['KNETSTAT_LIBBPF', '/nonexistent/libbpf.so.1', /cannot load \/nonexistent\/libbpf\.so\.1 .*install libbpf1/],
    ['KNETSTAT_BPF_OBJECT', '/nonexistent/knetstat.bpf.o', /the BPF object \/nonexistent\/knetstat\.bpf\.o is missing/],
  ])('%s=%s', (name, value, reason) => {
    const r = runCli([String(jvm.pid), '-f', 'json', '-q'], { env: { ...process.env, CI: 'true', [name]: value } });
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.sources[0].name).toBe('bpf');
    expect(rep.sources[0].used).toBe(false);
    expect(rep.sources[0].reason).toMatch(reason);
    expect(rep.sources[0].reason).not.toContain('\n');
    expect(rep.sources.find((s: any) => s.used)?.name).toBe('pidfd');
    const forced = runCli([String(jvm.pid), '--source', 'bpf', '-q'], { env: { ...process.env, CI: 'true', [name]: value } });
    expect(forced.code).toBe(3);
    expect(forced.stderr).toMatch(reason);
  });

  const wrapper = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];

  it('an ordinary user without capabilities, on its own JVM: bpf refused in one line, another source answers', async () => {
    const own = await startJvm('SocketLab', ['a:server'], { wrapper });
    try {
      const r = runCli([String(own.pid), '-f', 'json', '-q'], { wrapper });
      expect([0, 3]).toContain(r.code);
      const rep = JSON.parse(r.stdout);
      expect(rep.sources[0]).toMatchObject({ name: 'bpf', used: false, reason: 'loading BPF iterators needs root or CAP_BPF+CAP_PERFMON (this process has neither)' });
      expect(rep.sources.some((s: any) => s.used && s.name !== 'bpf')).toBe(true);
    } finally {
      await own.stop();
    }
  });

  it('an ordinary user without capabilities', () => {
    const r = runCli(['bpf-selfcheck'], { wrapper });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual(['knetstat-java: bpf self-check: loading BPF iterators needs root or CAP_BPF+CAP_PERFMON (this process has neither)']);
    const all = runCli(['--all', '--source', 'bpf'], { wrapper });
    expect(all.code).toBe(2);
    expect(all.stderr).toMatch(/--source bpf: loading BPF iterators needs root or CAP_BPF\+CAP_PERFMON/);
  });
});
