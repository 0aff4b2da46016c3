// The strace oracle's parser, on small recorded snippets (strace 6.1 on
// Linux, JDK 17) and on a real run of samples/java/Probe.java.
import { afterAll, describe, expect, it } from 'vitest';
import {
  byPort, inetSockets, optionsOf, parseCalls, parseSockaddr, parseStraceText, parseValue, splitArgs,
  startJvmUnderStrace, straceUsable, type StracedJvm,
} from './helpers/strace.js';

describe('pieces', () => {
  it('splits arguments at top-level commas only', () => {
    expect(splitArgs('7, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=7}, 8')).toEqual(['7', 'SOL_SOCKET', 'SO_LINGER', '{l_onoff=1, l_linger=7}', '8']);
    expect(splitArgs('4, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")}, [28 => 16]')).toHaveLength(3);
    expect(splitArgs('3, "a,b\\"c", 1')).toEqual(['3', '"a,b\\"c"', '1']);
  });

  it('decodes sockaddrs', () => {
    expect(parseSockaddr('{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}')).toEqual({ address: '127.0.0.1', port: 8080 });
    expect(parseSockaddr('{sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}'))
      .toEqual({ address: '::ffff:127.0.0.1', port: 443 });
    expect(parseSockaddr('{sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}')).toBeUndefined();
    expect(parseSockaddr('NULL')).toBeUndefined();
  });

  it('decodes option values', () => {
    expect(parseValue('[1]')).toBe(1);
    expect(parseValue('[-1]')).toBe(-1);
    expect(parseValue('{l_onoff=1, l_linger=7}')).toEqual({ enabled: true, seconds: 7 });
    expect(parseValue('{l_onoff=0, l_linger=0}')).toEqual({ enabled: false, seconds: 0 });
    expect(parseValue('{tv_sec=5, tv_usec=0}')).toEqual({ sec: 5, usec: 0 });
    expect(parseValue('"cubic"')).toBe('cubic');
    expect(parseValue('"bbr\\0"')).toBe('bbr');
    // Short int options the JDK sets as one byte (IP_MULTICAST_TTL, IP_MULTICAST_LOOP): numbers.
    expect(parseValue('"\\3"', 1, 'IP_MULTICAST_TTL')).toBe(3);
    expect(parseValue('"\\0"', 1, 'IP_MULTICAST_LOOP')).toBe(0);
    expect(parseValue('"\\377"', 1, 'IP_MULTICAST_TTL')).toBe(255);
    expect(parseValue('"\\x10\\0\\0\\0"', 4, 'IP_TOS')).toBe(16);
    expect(parseValue('"bbr\\0"', 4, 'TCP_CONGESTION')).toBe('bbr');
    expect(parseValue('"cubic"', 5, 'TCP_CONGESTION')).toBe('cubic');
    expect(parseValue('{imr_multiaddr=inet_addr("230.0.0.1"), imr_interface=inet_addr("0.0.0.0")}')).toMatch(/^\{imr_multiaddr/);
  });

  it('joins unfinished calls with their resumption, per thread', () => {
    const calls = parseCalls([
      '2330  accept(4,  <unfinished ...>',
      '2331  setsockopt(9, SOL_TCP, TCP_NODELAY, [1], 4) = 0',
      '2330  <... accept resumed>{sa_family=AF_INET, sin_port=htons(40000), sin_addr=inet_addr("127.0.0.1")}, [16]) = 10',
      '2332  <... accept resumed>NULL, NULL) = 11',
      '2331  +++ exited with 0 +++',
      '2331  --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---',
    ].join('\n'));
    expect(calls.map((c) => [c.tid, c.name, c.ret])).toEqual([[2331, 'setsockopt', 0], [2330, 'accept', 10]]);
    expect(calls[1]!.args[0]).toBe('4');
    expect(calls[1]!.args[1]).toMatch(/^\{sa_family=AF_INET/);
  });

  it('joins a call cut after its last argument, and drops interrupted ones (recorded from Jetty)', () => {
    const calls = parseCalls([
      '18711 connect(18, {sa_family=AF_INET6, sin6_port=htons(38763), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>',
      '18730 <... accept resumed>{sa_family=AF_INET6, sin6_port=htons(34522), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, [28]) = 14',
      '18711 <... connect resumed>)            = 0',
      '18730 accept(9,  <unfinished ...>',
      '18730 <... accept resumed>0x7f3e5c32a5b0, [28]) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)',
    ].join('\n'));
    expect(calls.map((c) => [c.name, c.args.length, c.ret])).toEqual([['connect', 3, 0], ['accept', 3, NaN]]);
    expect(parseSockaddr(calls[0]!.args[1]!)).toEqual({ address: '::ffff:127.0.0.1', port: 38763 });
    const all = parseStraceText('18711 socket(AF_INET6, SOCK_STREAM, IPPROTO_IP) = 18\n' + calls.map((c) => `${c.tid}  ${c.raw}`).join('\n'));
    expect(all).toHaveLength(1); // the interrupted accept made no socket
    expect(all[0]!.remote?.port).toBe(38763);
  });

  it('reads lines without a pid (strace without -f) and errors', () => {
    const calls = parseCalls('setsockopt(3, SOL_IP, IP_TOS, [16], 4) = -1 EPERM (Operation not permitted)\n');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ tid: 0, ret: -1, errno: 'EPERM' });
  });
});

describe('per-socket histories', () => {
  const TRACE = `
100  socket(AF_INET6, SOCK_STREAM, IPPROTO_IP) = 4
100  setsockopt(4, SOL_IPV6, IPV6_V6ONLY, [0], 4) = 0
100  setsockopt(4, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
100  bind(4, {sa_family=AF_INET6, sin6_port=htons(0), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::", &sin6_addr), sin6_scope_id=0}, 28) = 0
100  getsockname(4, {sa_family=AF_INET6, sin6_port=htons(40117), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::", &sin6_addr), sin6_scope_id=0}, [28]) = 0
100  listen(4, 77)                     = 0
101  socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_TCP) = 5
101  setsockopt(5, SOL_SOCKET, SO_RCVBUF, [32768], 4) = 0
101  setsockopt(5, SOL_TCP, TCP_NODELAY, [1], 4) = 0
101  connect(5, {sa_family=AF_INET, sin_port=htons(9000), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
102  accept4(4,  <unfinished ...>
101  setsockopt(5, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=7}, 8) = 0
101  setsockopt(5, SOL_IP, IP_MULTICAST_TTL, "\\3", 1) = 0
102  <... accept4 resumed>{sa_family=AF_INET6, sin6_port=htons(51000), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, [28], SOCK_CLOEXEC|SOCK_NONBLOCK) = 6
102  setsockopt(6, SOL_IPV6, IPV6_TCLASS, [184], 4) = 0
102  setsockopt(6, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0
102  setsockopt(6, SOL_SOCKET, SO_KEEPALIVE, [0], 4) = 0
102  setsockopt(6, SOL_TCP, TCP_CONGESTION, "bogus", 5) = -1 ENOENT (No such file or directory)
100  close(6)                          = 0
100  close(77)                         = 0
100  socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 6
100  setsockopt(6, SOL_IP, IP_MULTICAST_ALL, [0], 4) = 0
100  setsockopt(6, SOL_SOCKET, SO_BROADCAST, [1], 4) = 0
100  socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 6
100  socket(AF_UNIX, SOCK_STREAM, 0) = 8
100  dup2(8, 6)                        = 6
100  socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 9
100  connect(9, {sa_family=AF_INET6, sin6_port=htons(40117), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0
100  accept(4, {sa_family=AF_INET6, sin6_port=htons(52222), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, [28]) = 10
`;
  const all = parseStraceText(TRACE);

  it('keeps every socket, in creation order', () => {
    expect(all.map((s) => [s.fd, s.family, s.type, s.origin])).toEqual([
      [4, 'AF_INET6', 'SOCK_STREAM', 'socket'],
      [5, 'AF_INET', 'SOCK_STREAM', 'socket'],
      [6, 'AF_INET6', 'SOCK_STREAM', 'accept'],
      [6, 'AF_INET', 'SOCK_DGRAM', 'socket'],
      [6, 'AF_INET', 'SOCK_STREAM', 'socket'],
      [8, 'AF_UNIX', 'SOCK_STREAM', 'socket'],
      [9, 'AF_INET', 'SOCK_STREAM', 'socket'],
      [10, 'AF_INET6', 'SOCK_STREAM', 'accept'],
    ]);
  });

  it('records a listener: options in order, bind, backlog, port from getsockname', () => {
    const l = all[0]!;
    expect(l.setsockopts.map((o) => [o.level, o.name, o.value])).toEqual([
      ['IPPROTO_IPV6', 'IPV6_V6ONLY', 0],
      ['SOL_SOCKET', 'SO_REUSEADDR', 1],
    ]);
    expect(l.bind).toEqual({ address: '::', port: 0 });
    expect(l.local).toEqual({ address: '::', port: 40117 });
    expect(l.backlog).toBe(77);
    expect(l.closed).toBeUndefined();
  });

  it('records a non-blocking client: flags, SOL_TCP as IPPROTO_TCP, linger, connect in progress', () => {
    const c = all[1]!;
    expect(c.flags).toEqual(['SOCK_CLOEXEC', 'SOCK_NONBLOCK']);
    expect(c.protocol).toBe('IPPROTO_TCP');
    expect(optionsOf(c)).toEqual({ SO_RCVBUF: 32768, TCP_NODELAY: 1, SO_LINGER: { enabled: true, seconds: 7 }, IP_MULTICAST_TTL: 3 });
    expect(c.setsockopts[1]!.level).toBe('IPPROTO_TCP');
    expect(c.remote).toEqual({ address: '127.0.0.1', port: 9000 });
    expect(c.local).toBeUndefined(); // no getsockname, no accepted peer in the trace
  });

  it('records an accepted socket from an interrupted accept4, and its close', () => {
    const a = all[2]!;
    expect(a.listener).toBe(0);
    expect(a.tid).toBe(102);
    expect(a.flags).toEqual(['SOCK_CLOEXEC', 'SOCK_NONBLOCK']);
    expect(a.local?.port).toBe(40117);
    expect(a.remote).toEqual({ address: '::ffff:127.0.0.1', port: 51000 });
    expect(optionsOf(a)).toEqual({ IPV6_TCLASS: 184, SO_KEEPALIVE: 0 }); // the failed call is kept but not applied
    expect(a.setsockopts.at(-1)).toMatchObject({ name: 'TCP_CONGESTION', value: 'bogus', result: -1, errno: 'ENOENT' });
    expect(a.closed).toBe('closed');
  });

  it('follows fd reuse: after close, silently (no close traced), and through dup2', () => {
    expect(all[3]!.closed).toBe('replaced'); // fd 6 came back from socket() with no close in between
    expect(optionsOf(all[3]!)).toEqual({ IP_MULTICAST_ALL: 0, SO_BROADCAST: 1 });
    expect(all[4]!.closed).toBe('replaced'); // dup2(8, 6): the JDK's pre-close trick
    expect(all[5]!.aliases).toEqual([6]);
    expect(all[5]!.closed).toBeUndefined();
  });

  it('infers a client local port from the one socket its server accepted', () => {
    expect(all[6]!.local).toEqual({ address: '::1', port: 52222 });
    expect(all[6]!.localInferred).toBe(true);
    expect(all[7]!.local?.port).toBe(40117);
  });

  it('finds sockets by port the way a test joins them with a report', () => {
    expect(byPort(all, 40117)).toBe(all[0]);
    expect(byPort(all, 40117, 52222)).toBe(all[7]);
    expect(byPort(all, 52222, 40117)).toBe(all[6]);
    expect(inetSockets(all, { openOnly: true }).map((s) => s.fd)).toEqual([4, 5, 9, 10]);
  });
});

describe.skipIf(!straceUsable())('on a real run of Probe', () => {
  let jvm: StracedJvm | undefined;
  afterAll(async () => { await jvm?.stop(); });

  it('finds every socket Probe reports, with the JDK calls the JDK makes', async () => {
    jvm = await startJvmUnderStrace('Probe', [], { timeoutMs: 60000 });
    const all = jvm.parse();
    expect(jvm.pid).not.toBe(jvm.proc.pid); // the JVM is strace's child
    const v4 = jvm.ready.sockets.ipv4 as Record<string, { localPort: number; remotePort?: number }>;
    for (const [kind, e] of Object.entries(v4)) {
      const s = byPort(all, e.localPort, e.remotePort);
      expect(s, kind).toBeDefined();
    }
    const server = byPort(all, v4.serverSocket!.localPort)!;
    expect(server.backlog).toBe(50);
    expect(optionsOf(server).SO_REUSEADDR).toBe(1);
    const accepted = byPort(all, v4.acceptedSocket!.localPort, v4.acceptedSocket!.remotePort)!;
    expect(accepted.origin).toBe('accept');
    expect(all[accepted.listener!]).toBe(server);
    // JVM start-up probes reuse fd numbers many times: all of those are closed.
    expect(all.filter((s) => s.closed).length).toBeGreaterThan(3);
  }, 90000);
});
