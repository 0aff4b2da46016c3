// The main job against a real JVM: SocketLab sets known options on real
// loopback sockets; the report must show exactly those values and calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJvm, type Jvm } from './helpers/jvm.js';
import { byPorts, reportJson, runCli } from './helpers/cli.js';

let jvm: Jvm;
let report: any;
const S = (id: string) => jvm.ready.sockets[id];
const sock = (id: string) => byPorts(report, S(id).localPort, S(id).remotePort || undefined);
const calls = (s: any, origin?: string) => s.java.filter((c: any) => !origin || c.origin === origin).map((c: any) => c.call);

beforeAll(async () => {
  jvm = await startJvm('SocketLab', [
    'plain:server',
    'c:client:tcpNoDelay,keepAlive,soLinger=7,rcvBuf=48000,sndBuf=24000,trafficClass=0x10,keepIdle=60,keepInterval=10,keepCount=4,oobInline,reusePort',
    'c6:client6:tcpNoDelay',
    'sv:server:backlog=200,rcvBuf=32768,reuseAddress=false',
    'u:udp:broadcast=false,rcvBuf=100000',
    'm:mcast:ttl=4,loop=false',
    'd:dchannel:trafficClass=0x20',
    'd6:dchannel6',
    'sd:client:shutdownOutput',
  ]);
  report = reportJson(jvm.pid);
});
afterAll(async () => { await jvm?.stop(); });

describe('knetstat-java <pid> --format json on a real JVM', () => {
  it('follows the JSON contract', () => {
    expect(report.pid).toBe(jvm.pid);
    expect(report.process.isJvm).toBe(true);
    // auto: the bpf source wherever it can run (root, a kernel with BTF), as here.
    expect(report.sources.find((s: any) => s.used).name).toBe('bpf');
    for (const s of report.sockets) {
      expect(['tcp', 'tcp6', 'udp', 'udp6']).toContain(s.protocol);
      expect(typeof s.fd).toBe('number');
      expect(typeof s.inode).toBe('number');
      expect(s.local).toEqual({ address: expect.any(String), port: expect.any(Number) });
      expect(typeof s.recvQ).toBe('number');
      expect(typeof s.diag).toBe('string');
      for (const o of Object.values<any>(s.options)) expect(o.source).toBe('bpf');
      for (const c of s.java) expect(['application', 'jdk-default', 'inherited']).toContain(c.origin);
    }
  });

  it('reports every socket SocketLab opened, each once', () => {
    const ids = Object.keys(jvm.ready.sockets);
    for (const id of ids) expect(() => sock(id)).not.toThrow();
    const inodes = report.sockets.map((s: any) => s.inode);
    expect(new Set(inodes).size).toBe(inodes.length);
    expect(report.sockets.length).toBe(ids.length);
  });

  it('reads the options the client set, as the kernel reports them', () => {
    const o = sock('c').options;
    expect(o.TCP_NODELAY.value).toBe(1);
    expect(o.SO_KEEPALIVE.value).toBe(1);
    expect(o.SO_LINGER.value).toEqual({ enabled: true, seconds: 7 });
    expect(o.SO_RCVBUF.value).toBe(96000); // the kernel doubles what Java asked for
    expect(o.SO_SNDBUF.value).toBe(48000);
    expect(o.TCP_KEEPIDLE.value).toBe(60);
    expect(o.TCP_KEEPINTVL.value).toBe(10);
    expect(o.TCP_KEEPCNT.value).toBe(4);
    expect(o.SO_OOBINLINE.value).toBe(1);
    expect(o.SO_REUSEPORT.value).toBe(1);
    expect(o.IPV6_TCLASS?.value ?? o.IP_TOS?.value).toBe(16);
  });

  it('writes the client configuration back as Java calls made by the application', () => {
    const app = calls(sock('c'), 'application');
    expect(app).toEqual(expect.arrayContaining([
      'setTcpNoDelay(true)', 'setKeepAlive(true)', 'setSoLinger(true, 7)', 'setReceiveBufferSize(48000)',
      'setSendBufferSize(24000)', 'setTrafficClass(0x10)', 'setOOBInline(true)',
      'setOption(ExtendedSocketOptions.TCP_KEEPIDLE, 60)', 'setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, 10)',
      'setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, 4)', 'setOption(StandardSocketOptions.SO_REUSEPORT, true)',
    ]));
    expect(calls(sock('c6'), 'application')).toEqual(['setTcpNoDelay(true)']);
  });

  it('makes no application call for sockets left at their defaults', () => {
    for (const id of ['plain', 'plain.client', 'plain.accepted', 'c.peer', 'd6']) {
      expect(calls(sock(id), 'application'), id).toEqual([]);
    }
  });

  it('tells the JDK defaults of a ServerSocket from the application', () => {
    const plain = sock('plain');
    expect(plain.options.backlog.value).toBe(50);
    expect(plain.java.find((c: any) => c.options.includes('backlog')).origin).toBe('jdk-default');
    expect(plain.java.find((c: any) => c.options.includes('SO_REUSEADDR'))?.origin).toBe('jdk-default');
    const sv = sock('sv');
    expect(sv.options.backlog.value).toBe(200);
    expect(calls(sv, 'application')).toEqual(expect.arrayContaining([
      'new ServerSocket(port, 200) / bind(addr, 200)', 'setReceiveBufferSize(32768)', 'setReuseAddress(false)',
    ]));
  });

  it('shows options an accepted socket inherited from its listener, with the listener named', () => {
    const acc = sock('sv.accepted');
    expect(acc.role).toBe('accepted');
    expect(acc.listener.fd).toBe(sock('sv').fd);
    const inh = acc.java.find((c: any) => c.options.includes('SO_RCVBUF'));
    expect(inh).toMatchObject({ origin: 'inherited', api: 'java.net.ServerSocket', call: 'setReceiveBufferSize(32768)' });
    expect(sock('c').role).toBe('connected');
    expect(sock('sv').role).toBe('listening');
  });

  it('translates UDP options to DatagramSocket and MulticastSocket calls', () => {
    const u = sock('u');
    // The UDP classes tie where only their JDK defaults differ: the spelling all of them have.
    expect(calls(u, 'application')).toEqual(['setOption(StandardSocketOptions.SO_RCVBUF, 100000)']);
    // setBroadcast(false) on a DatagramSocket leaves it like a DatagramChannel: the report names both.
    expect(u.verdicts.SO_BROADCAST.note).toMatch(/or a (DatagramSocket|MulticastSocket) on which the code called setBroadcast\(false\): the kernel cannot tell which/);
    const m = sock('m');
    expect(m.apis).toContain('java.net.MulticastSocket');
    expect(calls(m, 'application')).toEqual(expect.arrayContaining(['setOption(StandardSocketOptions.IP_MULTICAST_TTL, 4)', 'setOption(StandardSocketOptions.IP_MULTICAST_LOOP, false)']));
    expect(calls(sock('d'), 'application')).toEqual(['setOption(StandardSocketOptions.IP_TOS, 0x20)']);
  });

  it('lists setSoTimeout as unobservable on every socket, with the reason', () => {
    for (const s of report.sockets) {
      const u = s.unobservable.find((x: any) => /setSoTimeout$/.test(x.call));
      expect(u, `fd ${s.fd}`).toBeTruthy();
      expect(u.reason).toMatch(/poll\(\)/);
    }
  });

  it('prints IPv4 peers of dual-stack sockets as ::ffff:a.b.c.d', () => {
    const c = sock('c');
    if (c.protocol === 'tcp6') expect(c.local.address).toBe('::ffff:127.0.0.1');
    else expect(c.local.address).toBe('127.0.0.1');
    expect(sock('c6').local.address).toBe('::1');
  });

  it('says when a value equals the system default', () => {
    const plain = sock('plain.client');
    expect(plain.verdicts.TCP_KEEPIDLE.systemDefault).toMatch(/net\.ipv4\.tcp_keepalive_time/);
  });

  it('renders the same socket in the text report, with calls and origins', () => {
    const r = runCli([String(jvm.pid)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`pid ${jvm.pid}`);
    expect(r.stdout).toMatch(/Socket\.setSoLinger\(true, 7\)\s+application/);
    expect(r.stdout).toMatch(/setSoTimeout: the JDK keeps the timeout/);
    expect(r.stderr).toBe('');
  });
});

describe('Diag indicators from TCP_INFO on a real stalled connection', () => {
  let stall: Jvm;
  beforeAll(async () => { stall = await startJvm('SocketLab', ['z:stall']); });
  afterAll(async () => { await stall?.stop(); });

  it('shows >| on the writer (peer window 0) and |< on the reader (our window 0)', () => {
    const r = reportJson(stall.pid);
    const w = byPorts(r, stall.ready.sockets['z.writer'].localPort, stall.ready.sockets['z.writer'].remotePort);
    const rd = byPorts(r, stall.ready.sockets['z.reader'].localPort, stall.ready.sockets['z.reader'].remotePort);
    expect(w.diag).toContain('>|');
    expect(w.sendQ).toBeGreaterThan(0);
    expect(rd.diag).toContain('|<');
    expect(rd.recvQ).toBeGreaterThan(0);
    expect(byPorts(r, stall.ready.sockets.z.localPort).diag).toBe(''); // a listener has no window
  });
});

describe('sock_diag enrichment after pidfd (auto, where bpf cannot run)', () => {
  // No BTF (an override pointing nowhere): auto's next choice, pidfd, then sock_diag's enrichment.
  const noBpf = { env: { ...process.env, CI: 'true', KNETSTAT_BTF: '/nonexistent/vmlinux' } };
  let enriched: any;
  const esock = (id: string) => byPorts(enriched, S(id).localPort, S(id).remotePort || undefined);
  beforeAll(() => { enriched = JSON.parse(runCli([String(jvm.pid), '--format', 'json'], noBpf).stdout); });

  it('is named as enrichment and adds only what pidfd cannot see', () => {
    expect(enriched.sources.filter((s: any) => s.used).map((s: any) => [s.name, s.role ?? 'primary'])).toEqual([['pidfd', 'primary'], ['sockdiag', 'enrich']]);
    const forced = reportJson(jvm.pid, ['--source', 'pidfd']);
    expect(forced.sources.map((s: any) => s.name)).toEqual(['pidfd']);
    // Same options, same values, same calls: enrichment never replaces what pidfd read.
    for (const s of enriched.sockets) {
      const f = forced.sockets.find((x: any) => x.inode === s.inode);
      for (const [name, o] of Object.entries<any>(f.options)) expect(s.options[name].value, `${s.fd} ${name}`).toEqual(o.value);
      expect(s.java.map((c: any) => c.call)).toEqual(f.java.map((c: any) => c.call));
      expect(f.timer).toBeUndefined();
    }
  });

  it('shows the keepalive timer of a socket with setKeepAlive(true), and none without', () => {
    expect(esock('c').timer).toMatchObject({ kind: 'keepalive', source: 'sockdiag' });
    // 60 s idle (TCP_KEEPIDLE=60): the timer fires within that.
    expect(esock('c').timer.expiresMs).toBeGreaterThan(0);
    expect(esock('c').timer.expiresMs).toBeLessThanOrEqual(60_000);
    expect(esock('c6').timer).toBeUndefined();
  });

  it('shows shutdownOutput() as a shut-down write side, in JSON and text', () => {
    expect(esock('sd').shutdown).toEqual({ read: false, write: true, source: 'sockdiag' });
    expect(esock('c').shutdown).toBeUndefined();
    const text = runCli([String(jvm.pid), '-q'], noBpf).stdout;
    const block = text.split('\n\n').find((b) => b.includes(`:${S('sd').localPort} ->`))!;
    expect(text).toMatch(/^  source: pidfd, enriched by sockdiag \(what pidfd cannot see: timers, shutdown state\)$/m);
    expect(block).toMatch(/shut down: shutdownOutput\(\) was called: no more data will be sent \(sockdiag\)/);
    // Its peer got the FIN: the kernel shut its read side, the application did not call shutdownInput().
    const peer = byPorts(enriched, S('sd').remotePort, S('sd').localPort);
    expect(peer.state).toBe('CLOSE_WAIT');
    expect(peer.shutdown).toEqual({ read: true, write: false, source: 'sockdiag' });
    const peerBlock = text.split('\n\n').find((b) => b.includes(`:${S('sd').remotePort} -> [::ffff:127.0.0.1]:${S('sd').localPort}`))!;
    expect(peerBlock).toMatch(/shut down: the peer closed its side: reads return end of stream/);
    expect(peerBlock).not.toMatch(/shutdownInput/);
  });
});
