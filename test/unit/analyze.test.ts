// The analysis (Capture -> Report) on the sample snapshots and on captures
// derived from them: roles, origins (kernel, JDK, application, inherited,
// autotuned), the Java calls written back, the shared verdicts of a whole
// report, the streamed report. No JVM: the snapshots are real captures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze, analyzeStream } from '../../src/java/analyze.js';
import { parseSnapshot } from '../../src/snapshot/file.js';
import type { Capture, RawSocket, ReportSocket } from '../../src/model/types.js';
import { ROOT } from '../helpers/root.js';

const load = (f: string): Capture => parseSnapshot(readFileSync(join(ROOT, 'samples', 'snapshots', f)), f).capture;
const byFd = (sockets: ReportSocket[], fd: number) => sockets.find((s) => s.fd === fd)!;
const calls = (s: ReportSocket, origin?: string) => s.java.filter((c) => !origin || c.origin === origin).map((c) => c.call);
/** A copy of a capture with one socket changed. */
function edit(cap: Capture, fd: number, change: (s: RawSocket) => void): Capture {
  const c = structuredClone(cap);
  change(c.sockets.find((s) => s.fd === fd)!);
  return c;
}

describe('roles and calls on the sample snapshots', () => {
  const clients = analyze(load('clients.json'));
  const servers = analyze(load('servers.json'));
  const udp = analyze(load('udp-dial-redacted.json'));

  it('names each socket\'s role and classes', () => {
    expect(clients.sockets.map((s) => s.role)).toEqual(['listening', 'connected', 'accepted', 'listening', 'connected', 'accepted']);
    expect(byFd(clients.sockets, 4).apis).toEqual(['java.net.ServerSocket', 'java.nio.channels.ServerSocketChannel', 'java.nio.channels.AsynchronousServerSocketChannel']);
    expect(byFd(clients.sockets, 6).listener?.fd).toBe(4);
    expect(byFd(udp.sockets, 5).apis[0]).toBe('java.net.MulticastSocket');
  });

  it('tells application calls from JDK defaults', () => {
    // These snapshots carry no O_NONBLOCK nor thread names: an asynchronous channel ties with Socket and
    // SocketChannel, and setOption is the one spelling all three have.
    expect(calls(byFd(clients.sockets, 5), 'application')).toEqual(['setOption(StandardSocketOptions.SO_KEEPALIVE, true)', 'setOption(StandardSocketOptions.TCP_NODELAY, true)']);
    expect(calls(byFd(clients.sockets, 8), 'application')).toEqual(['setSoLinger(true, 0)']);
    const l = byFd(clients.sockets, 4);
    expect(l.java.map((c) => `${c.call}:${c.origin}`)).toEqual(['setOption(StandardSocketOptions.SO_REUSEADDR, true):jdk-default', 'new ServerSocket(port) / bind(addr):jdk-default']);
    expect(l.verdicts.backlog).toMatchObject({ origin: 'jdk-default', note: expect.stringMatching(/the kernel cannot tell/) });
    expect(calls(byFd(clients.sockets, 6))).toEqual([]); // accepted: SO_REUSEADDR from the listener, set by the JDK
    expect(calls(byFd(udp.sockets, 4), 'application')).toEqual(['setReceiveBufferSize(100000)']);
    // DatagramSocket, MulticastSocket and DatagramChannel tie (their JDK defaults differ only where the kernel cannot tell): the spelling all three have.
    expect(calls(byFd(udp.sockets, 5), 'application')).toEqual(['setOption(StandardSocketOptions.IP_MULTICAST_TTL, 4)']);
  });

  it('no thread of the default asynchronous channel group: calls spelled for Socket and SocketChannel, the asynchronous channel still named', () => {
    const cap = load('clients.json');
    cap.process.jvm = { ...cap.process.jvm!, threads: { total: 12, asyncGroup: 0 } };
    const c = byFd(analyze(cap).sockets, 5);
    expect(calls(c, 'application')).toEqual(['setKeepAlive(true)', 'setTcpNoDelay(true)']);
    expect(c.apis).toContain('java.nio.channels.AsynchronousSocketChannel');
    expect(c.classNote).toMatch(/asynchronous channel is unlikely/);
  });

  it('writes an inherited option as a call on the listener', () => {
    const a = byFd(servers.sockets, 6);
    const c = a.java.find((x) => x.options.includes('SO_RCVBUF'))!;
    expect(c).toMatchObject({ api: 'java.net.ServerSocket', call: 'setOption(StandardSocketOptions.SO_RCVBUF, 32768)', origin: 'inherited', from: { fd: 4 } });
    expect(a.verdicts.SO_RCVBUF!.note).toMatch(/inherited from listener fd 4 /);
    expect(calls(byFd(servers.sockets, 4), 'application')).toEqual(['setOption(StandardSocketOptions.SO_RCVBUF, 32768)', 'new ServerSocket(port, 200) / bind(addr, 200)']);
  });

  it('says which host sysctl a default value is', () => {
    const s = byFd(clients.sockets, 5);
    // Equal to the sysctl, read by getsockopt: whether the code set it, only the bpf source can tell.
    expect(s.verdicts.TCP_KEEPIDLE).toMatchObject({ origin: 'kernel-default', confidence: 'uncertain', systemDefault: 'net.ipv4.tcp_keepalive_time = 7200' });
    expect(s.verdicts.TCP_CONGESTION?.systemDefault).toBe('net.ipv4.tcp_congestion_control = bbr');
    expect(s.verdicts.TCP_QUICKACK?.origin).toBe('unknown'); // changes by itself
  });

  it('lists what no option shows, per role', () => {
    expect(byFd(clients.sockets, 5).unobservable.map((u) => `${u.api ?? ''}.${u.call}`)).toEqual(['java.net.Socket.setSoTimeout', '.setPerformancePreferences']);
    expect(byFd(udp.sockets, 4).unobservable.map((u) => u.call)).toEqual(['setSoTimeout']);
  });

  it('shares equal verdicts within a whole report, and streams the same sockets', () => {
    const verdicts = clients.sockets.flatMap((s) => Object.values(s.verdicts));
    expect(new Set(verdicts).size).toBeLessThan(verdicts.length / 4);
    const cap = load('servers.json');
    const stream = analyzeStream(cap);
    expect(JSON.parse(JSON.stringify([...stream.sockets]))).toEqual(JSON.parse(JSON.stringify(analyze(cap).sockets)));
    expect(stream.defaults).toEqual(analyze(cap).defaults);
  });
});

describe('verdicts on derived captures', () => {
  const cap = load('servers.json');

  it('a buffer the knetstat module says is locked is the application\'s, certainly; an unlocked one the kernel\'s', () => {
    const locked = analyze(edit(cap, 5, (s) => { s.userLocks = { rcvbuf: true, sndbuf: false, source: 'knetstat' }; }));
    expect(byFd(locked.sockets, 5).verdicts.SO_RCVBUF).toMatchObject({ origin: 'application', confidence: 'certain' });
    expect(byFd(locked.sockets, 5).verdicts.SO_SNDBUF).toMatchObject({ confidence: 'certain', note: expect.stringMatching(/^not locked/) });
    expect(calls(byFd(locked.sockets, 5), 'application')).toContain(`setOption(StandardSocketOptions.SO_RCVBUF, ${Number(byFd(locked.sockets, 5).options.SO_RCVBUF!.value) / 2})`);
  });

  it('without a lock flag, a grown receive buffer is "cannot tell", twice a round number too (autotuning lands there as well)', () => {
    const round = analyze(edit(cap, 5, (s) => { s.options.SO_RCVBUF = { value: 2 * 262144, source: 'pidfd' }; }));
    expect(byFd(round.sockets, 5).verdicts.SO_RCVBUF).toMatchObject({ origin: 'autotuned', confidence: 'uncertain', note: expect.stringMatching(/twice a round number \(262144\).*cannot tell/) });
    expect(calls(byFd(round.sockets, 5), 'application')).toEqual([]);
    const odd = analyze(edit(cap, 5, (s) => { s.options.SO_RCVBUF = { value: 2 * 262147, source: 'pidfd' }; }));
    // Grown after data arrived: autotuning most likely, but without the lock flag the kernel cannot tell.
    expect(byFd(odd.sockets, 5).verdicts.SO_RCVBUF).toMatchObject({ origin: 'autotuned', confidence: 'uncertain' });
  });

  it('SO_PRIORITY that IP_TOS implies is the kernel\'s', () => {
    const r = analyze(edit(cap, 5, (s) => {
      s.options.IP_TOS = { value: 0x10, source: 'pidfd' };
      s.options.SO_PRIORITY = { value: 6, source: 'pidfd' };
    }));
    const s = byFd(r.sockets, 5);
    expect(s.verdicts.SO_PRIORITY).toMatchObject({ origin: 'kernel-default', note: expect.stringMatching(/from IP_TOS 0x10/) });
    expect(calls(s, 'application')).toEqual(['setTrafficClass(0x10)']);
  });

  it('an option no Java API sets is written as a native setting', () => {
    const r = analyze(edit(cap, 5, (s) => { s.options.TCP_USER_TIMEOUT = { value: 5000, source: 'pidfd' }; }));
    expect(byFd(r.sockets, 5).java).toContainEqual(expect.objectContaining({ api: 'native', call: 'TCP_USER_TIMEOUT=5000', origin: 'application' }));
  });

  it('a value no source could read is unknown, not a default', () => {
    const r = analyze(edit(cap, 5, (s) => { s.options.SO_KEEPALIVE = { value: null, source: 'pidfd', error: 'EPERM' }; }));
    expect(byFd(r.sockets, 5).unknown).toEqual(['SO_KEEPALIVE']);
    expect(byFd(r.sockets, 5).verdicts.SO_KEEPALIVE).toBeUndefined();
  });

  it('a capture without measured kernel defaults falls back to mappings/kernel-defaults.json', () => {
    const bare = structuredClone(cap);
    delete bare.host.kernelDefaults;
    const r = analyze(bare);
    expect(byFd(r.sockets, 5).verdicts.SO_KEEPALIVE).toEqual({ origin: 'kernel-default' });
    expect(byFd(r.sockets, 5).verdicts.TCP_NODELAY).toEqual({ origin: 'kernel-default' });
    // Host-dependent defaults (buffers) are not in that table: a judgement, and it says so.
    expect(byFd(r.sockets, 5).verdicts.SO_RCVBUF?.confidence).toMatch(/^(likely|uncertain)$/);
  });

  it('notes a JDK the defaults were not verified on, and measured defaults', () => {
    const jdk21 = structuredClone(cap);
    jdk21.process.jvm = { ...jdk21.process.jvm!, version: '21', feature: 21 };
    expect(analyze(jdk21).defaults).toEqual({ jdk: '21', note: expect.stringMatching(/^target runs JDK 21; defaults verified on JDK 17, 25 only/) });
    const jdk25 = structuredClone(cap);
    jdk25.process.jvm = { ...jdk25.process.jvm!, version: '25.0.3', feature: 25 };
    expect(analyze(jdk25).defaults).toEqual({ jdk: '25.0.3', note: undefined });
    const measured = { ...structuredClone(cap), jdkDefaults: { rows: [], source: 'live probe of /x' } };
    expect(analyze(measured).defaults.note).toBe('JDK defaults measured from the target\'s own JDK: live probe of /x');
    const notJvm = { ...structuredClone(cap), process: { ...cap.process, isJvm: false, jvm: undefined } };
    expect(analyze(notJvm).defaults.note).toMatch(/^not a JVM/);
  });
});
