// Every row of mappings/java-api.json against a real process: a program sets
// the option -> the report shows the call with the right origin; a program
// leaves it -> no application call. Java-settable options are set from a
// real JVM (SocketLab); options with no Java API are set from python3 (as a
// native library would), and must come out as "no Java API".
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mappings } from '../src/mappings.js';
import { startJvm, type Jvm } from './helpers/jvm.js';
import { byPorts, reportJson } from './helpers/cli.js';

interface Case { row: string; spec: string; id: string; call: string; api?: string; v4?: boolean; hint?: boolean }

// One socket per row: [mapping row, SocketLab spec, socket id, expected call]
const CASES: Case[] = [
  { row: 'SO_KEEPALIVE', spec: 'ka:client:keepAlive', id: 'ka', call: 'setKeepAlive(true)' },
  { row: 'TCP_NODELAY', spec: 'nd:client:tcpNoDelay', id: 'nd', call: 'setTcpNoDelay(true)' },
  { row: 'SO_LINGER', spec: 'lg:client:soLinger=0', id: 'lg', call: 'setSoLinger(true, 0)' },
  { row: 'SO_REUSEADDR', spec: 'ra:server:reuseAddress=false', id: 'ra', call: 'setReuseAddress(false)', api: 'java.net.ServerSocket' },
  { row: 'SO_REUSEPORT', spec: 'rp:client:reusePort', id: 'rp', call: 'setOption(StandardSocketOptions.SO_REUSEPORT, true)' },
  { row: 'SO_RCVBUF', spec: 'rb:client:rcvBuf=40000', id: 'rb', call: 'setReceiveBufferSize(40000)' },
  { row: 'SO_SNDBUF', spec: 'sb:client:sndBuf=20000', id: 'sb', call: 'setSendBufferSize(20000)' },
  { row: 'IPV6_TCLASS', spec: 'tc:client6:trafficClass=0x28', id: 'tc', call: 'setTrafficClass(0x28)' },
  { row: 'IP_TOS', spec: 'tos:client:trafficClass=0x08', id: 'tos', call: 'setTrafficClass(0x08)', v4: true },
  { row: 'SO_OOBINLINE', spec: 'oob:client:oobInline', id: 'oob', call: 'setOOBInline(true)' },
  // A DatagramSocket with setBroadcast(false) is indistinguishable from a plain DatagramChannel: named as the alternative.
  { row: 'SO_BROADCAST', spec: 'bc:udp:broadcast=false', id: 'bc', call: 'setBroadcast(false)', api: 'java.net.DatagramSocket', hint: true },
  // The three UDP classes tie on a socket whose JDK defaults tell none apart: the spelling each of them has.
  { row: 'IPV6_MULTICAST_HOPS', spec: 'ttl6:mcast6:ttl=9', id: 'ttl6', call: 'setOption(StandardSocketOptions.IP_MULTICAST_TTL, 9)', api: 'java.net.MulticastSocket' },
  { row: 'IP_MULTICAST_TTL', spec: 'ttl:mcast:ttl=5', id: 'ttl', call: 'setOption(StandardSocketOptions.IP_MULTICAST_TTL, 5)', api: 'java.net.MulticastSocket', v4: true },
  { row: 'IPV6_MULTICAST_LOOP', spec: 'lp6:dchannel6:loop=false', id: 'lp6', call: 'setOption(StandardSocketOptions.IP_MULTICAST_LOOP, false)' },
  { row: 'IP_MULTICAST_LOOP', spec: 'lp:dchannel:loop=false', id: 'lp', call: 'setOption(StandardSocketOptions.IP_MULTICAST_LOOP, false)', v4: true },
  { row: 'TCP_KEEPIDLE', spec: 'ki:client:keepIdle=33', id: 'ki', call: 'setOption(ExtendedSocketOptions.TCP_KEEPIDLE, 33)' },
  { row: 'TCP_KEEPINTVL', spec: 'kv:client:keepInterval=7', id: 'kv', call: 'setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, 7)' },
  { row: 'TCP_KEEPCNT', spec: 'kc:client:keepCount=2', id: 'kc', call: 'setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, 2)' },
  { row: 'backlog', spec: 'bl:server:backlog=321', id: 'bl', call: 'new ServerSocket(port, 321) / bind(addr, 321)', api: 'java.net.ServerSocket' },
];

// Rows with no Java API, set by a native program (python3's socket module is a thin libc wrapper).
const NATIVE = `
import socket, sys, time
IPPROTO_TCP = socket.IPPROTO_TCP
out = {}
l = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
l.setsockopt(IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 5)
l.setsockopt(IPPROTO_TCP, 23, 5)  # TCP_FASTOPEN
l.bind(("::", 0)); l.listen(9)
out["listener"] = l.getsockname()[1]
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.setsockopt(IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 5000)
c.setsockopt(IPPROTO_TCP, socket.TCP_CONGESTION, b"reno")
c.setsockopt(IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT, 16384)
c.setsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY, 3)
c.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 7)
import struct
c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 1, 500000))
c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 2, 0))
c.setsockopt(IPPROTO_TCP, socket.TCP_MAXSEG, 1000)
c.setsockopt(IPPROTO_TCP, socket.TCP_QUICKACK, 0)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# IP_MULTICAST_ALL left at the kernel's 1: every JDK clears it, so in a JVM 1 means native code set it back
u.bind(("127.0.0.1", 0))
out["udp"] = u.getsockname()[1]
# IPV6_MULTICAST_ALL cleared as JDK 25 does; in a process the report takes for JDK 17 (or no JVM), 0 is a native call
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u6.setsockopt(socket.IPPROTO_IPV6, 29, 0)  # IPV6_MULTICAST_ALL
u6.bind(("::1", 0))
out["udp6"] = u6.getsockname()[1]
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c.connect(s.getsockname())
out["client"] = c.getsockname()[1]
import json, os; out["pid"] = os.getpid()
print("READY " + json.dumps(out), flush=True)
sys.stdin.read()
`;

const NATIVE_CASES: [string, 'listener' | 'client' | 'udp' | 'udp6', unknown][] = [
  ['IP_MULTICAST_ALL', 'udp', 1], ['IPV6_MULTICAST_ALL', 'udp6', 0],
  ['IPV6_V6ONLY', 'listener', 1], ['TCP_DEFER_ACCEPT', 'listener', 7] /* 5 s asked; the kernel keeps SYN-ACK retransmits and reports 7 */, ['TCP_FASTOPEN', 'listener', 5],
  ['TCP_USER_TIMEOUT', 'client', 5000], ['TCP_CONGESTION', 'client', 'reno'], ['TCP_NOTSENT_LOWAT', 'client', 16384],
  ['SO_PRIORITY', 'client', 3], ['SO_MARK', 'client', 7], ['SO_RCVTIMEO', 'client', 1500], ['SO_SNDTIMEO', 'client', 2000],
];

let dual: Jvm, v4: Jvm, plain: Jvm;
let rDual: any, rV4: any, rPlain: any, rNative: any;
let py: ChildProcess;
let pyReady: any;

beforeAll(async () => {
  [dual, v4, plain] = await Promise.all([
    startJvm('SocketLab', CASES.filter((c) => !c.v4).map((c) => c.spec)),
    startJvm('SocketLab', CASES.filter((c) => c.v4).map((c) => c.spec), { jvmArgs: ['-Djava.net.preferIPv4Stack=true'] }),
    startJvm('SocketLab', ['s:server', 'ss:sschannel', 'c:client', 'c6:client6', 'sc:schannel', 'u:udp', 'm:mcast', 'd:dchannel', 'd6:dchannel6', 'm6:mcast6']),
  ]);
  py = spawn('python3', ['-c', NATIVE], { stdio: ['pipe', 'pipe', 'inherit'] });
  pyReady = await new Promise((res) => createInterface({ input: py.stdout! }).on('line', (l) => l.startsWith('READY') && res(JSON.parse(l.slice(6)))));
  rDual = reportJson(dual.pid);
  rV4 = reportJson(v4.pid);
  rPlain = reportJson(plain.pid);
  rNative = reportJson(pyReady.pid, ['--any']);
});
afterAll(async () => {
  py?.kill();
  await Promise.all([dual?.stop(), v4?.stop(), plain?.stop()]);
});

describe('each mapping row, set by a real JVM, comes back as the call that set it', () => {
  it('covers every row of mappings/java-api.json', () => {
    const tested = new Set([...CASES.map((c) => c.row), ...NATIVE_CASES.map((c) => c[0]), 'TCP_QUICKACK', 'TCP_MAXSEG']);
    for (const r of mappings().java.options) expect(tested.has(r.option), r.option).toBe(true);
  });

  it.each(CASES.map((c) => [c.row, c] as const))('%s', (_row, c) => {
    const jvm = c.v4 ? v4 : dual;
    const info = jvm.ready.sockets[c.id];
    const s = byPorts(c.v4 ? rV4 : rDual, info.localPort, info.remotePort || undefined);
    if (c.hint) {
      // The kernel cannot tell it from a class whose default it is: the verdict names the call as the other story.
      expect(s.verdicts[c.row]).toMatchObject({ confidence: 'uncertain' });
      expect(s.verdicts[c.row].note).toMatch(new RegExp(`or a (DatagramSocket|MulticastSocket) on which the code called ${c.call.replace(/[()]/g, '\\$&')}`));
      return;
    }
    const call = s.java.find((j: any) => j.options.includes(c.row));
    expect(call, JSON.stringify(s.java)).toBeTruthy();
    expect(call.call).toBe(c.call);
    expect(call.origin).toBe('application');
    if (c.api) expect(call.api).toBe(c.api);
    if (c.v4) expect(s.protocol).toMatch(/^(tcp|udp)$/);
  });
});

describe('values the kernel derives from another option', () => {
  it('SO_PRIORITY follows IP_TOS (rt_tos2priority): no call of its own', () => {
    const info = v4.ready.sockets.tos;
    const s = byPorts(rV4, info.localPort, info.remotePort);
    expect(s.options.SO_PRIORITY.value).toBe(2); // TOS 0x08 -> TC_PRIO_BULK
    expect(s.verdicts.SO_PRIORITY).toMatchObject({ origin: 'kernel-default' });
    expect(s.java.some((c: any) => c.options.includes('SO_PRIORITY'))).toBe(false);
  });
});

describe('sockets left at their defaults get no application call', () => {
  it('for every kind of socket the JDK creates', () => {
    for (const [id, info] of Object.entries<any>(plain.ready.sockets)) {
      const s = byPorts(rPlain, info.localPort, info.remotePort || undefined);
      const app = s.java.filter((j: any) => j.origin === 'application');
      expect(app, `${id}: ${JSON.stringify(app)}`).toEqual([]);
    }
  });
  it('what the JDK sets by itself is shown as a JDK default', () => {
    const s = byPorts(rPlain, plain.ready.sockets.s.localPort);
    expect(s.java.find((j: any) => j.options.includes('SO_REUSEADDR'))).toMatchObject({ origin: 'jdk-default', call: 'setReuseAddress(true)' });
    expect(s.java.find((j: any) => j.options.includes('backlog'))).toMatchObject({ origin: 'jdk-default' });
    const u = byPorts(rPlain, plain.ready.sockets.u.localPort);
    expect(u.java.find((j: any) => j.options.includes('SO_BROADCAST'))).toMatchObject({ origin: 'jdk-default', call: 'setBroadcast(true)' });
  });
});

describe('options with no Java API, set by native code', () => {
  it.each(NATIVE_CASES)('%s', (name, which, value) => {
    const s = byPorts(rNative, pyReady[which]);
    expect(s.options[name].value).toEqual(value);
    const call = s.java.find((j: any) => j.options.includes(name));
    expect(call, JSON.stringify(s.java)).toMatchObject({ api: 'native', origin: 'application' });
    expect(call.note).toMatch(/no Java API/);
  });
  it('TCP_QUICKACK and TCP_MAXSEG change by themselves: a call only where the kernel keeps a user MSS (bpf: user_mss)', () => {
    const s = byPorts(rNative, pyReady.client);
    expect(s.java.some((j: any) => j.options.includes('TCP_QUICKACK'))).toBe(false);
    const mss = s.java.find((j: any) => j.options.includes('TCP_MAXSEG'));
    // The python client set TCP_MAXSEG 1000: named, for certain, by a source that reads rx_opt.user_mss; by no other.
    if (s.options.TCP_MAXSEG.explicit === true) expect(mss).toMatchObject({ api: 'native', origin: 'application', evidence: 'kernel-flag' });
    else expect(mss).toBeUndefined();
    expect(s.verdicts.TCP_QUICKACK.origin).toBe('unknown');
  });
});
