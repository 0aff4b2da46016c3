// The pure parts of --observe: the attach protocol's bytes and answers, the
// /proc and perf-data facts attaching decides on, attribution of peers to
// sockets, the library table, the O_NONBLOCK hint.
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ObserveError, UsageError } from '../../src/errors.js';
import { parseDuration } from '../../src/cli/observe.js';
import { FACT_ROWS, nonBlockingHint } from '../../src/java/nonblocking.js';
import { mappings } from '../../src/mappings.js';
import { catchesSignal, parseStat, parseStatus } from '../../src/linux/proc.js';
import { parseVmKind } from '../../src/observe/attach.js';
import { classifyStack, normalizeAddress, readers, SocketActivity } from '../../src/observe/activity.js';
import { attribute, type SocketRef } from '../../src/observe/attribute.js';
import { attachDisabledByFlags, attachSupported, parsePerfData } from '../../src/observe/hsperf.js';
import type { Frame, SocketIo } from '../../src/observe/jfr/socket.js';
import { libraryOf, libraryRow, libraryTable } from '../../src/observe/libraries.js';
import { checkedEvents, encodeRequest, parseProperties, parseReply, parseVmVersion, startedRecording, noFlightRecorder } from '../../src/observe/protocol.js';

describe('attach protocol 1', () => {
  it('a request is version, operation and exactly three arguments, each NUL-terminated', () => {
    expect(encodeRequest('jcmd', ['VM.version']).toString('latin1')).toBe('1\0jcmd\0VM.version\0\0\0');
    expect(encodeRequest('properties').toString('latin1')).toBe('1\0properties\0\0\0\0');
    expect(() => encodeRequest('jcmd', ['x'.repeat(1025)])).toThrow(UsageError);
    expect(() => encodeRequest('jcmd', ['a\0b'])).toThrow(/NUL/);
    expect(() => encodeRequest('operation-too-long')).toThrow(/too long/);
  });

  it('an answer is a code line, then text; JDK 25 says 0 before a failing command runs', () => {
    expect(parseReply(Buffer.from('0\nStarted recording 3.\n'))).toEqual({ code: 0, text: 'Started recording 3.\n' });
    expect(parseReply(Buffer.from('-1\njava.lang.IllegalArgumentException: Unknown diagnostic command\n')).code).toBe(-1);
    expect(() => parseReply(Buffer.from(''))).toThrow(/no result code/);
    expect(() => parseReply(Buffer.from('Started'))).toThrow(ObserveError);
    const jdk25 = parseReply(Buffer.from('0\nInteger parsing error nanotime value: illegal unit\n'));
    expect(jdk25.code).toBe(0);
    expect(startedRecording(jdk25.text)).toBeUndefined();
    expect(startedRecording('Started recording 12. No limit specified, using maxsize=250MB as default.')).toBe(12);
    expect(noFlightRecorder(parseReply(Buffer.from('-1\njava.lang.IllegalArgumentException: Unknown diagnostic command\n')))).toBe(true);
    expect(noFlightRecorder({ code: 0, text: 'Started recording 1.' })).toBe(false);
    expect(noFlightRecorder({ code: 0, text: 'Module jdk.jfr not found.\nFlight Recorder can not be enabled.\n' })).toBe(true); // JDK 17, jlink image without jdk.jfr (measured)
  });

  it('VM.version of JDK 17, 25 and 8', () => {
    expect(parseVmVersion('OpenJDK 64-Bit Server VM version 17.0.21.1+2-1-deb12u1-Debian\nJDK 17.0.21.1\n')).toEqual({ version: '17.0.21.1', feature: 17, vm: 'OpenJDK 64-Bit Server VM' });
    expect(parseVmVersion('OpenJDK 64-Bit Server VM version 25.0.3+9-LTS\nJDK 25.0.3\n').feature).toBe(25);
    expect(parseVmVersion('OpenJDK 64-Bit Server VM version 25.252-b09\nJDK 8.0_252\n').feature).toBe(8);
    expect(parseVmVersion('Java HotSpot(TM) 64-Bit Server VM version 25.202-b08\nJDK 1.8.0_202\n').feature).toBe(8);
  });

  it('system properties as java.util.Properties writes them', () => {
    const p = parseProperties('#Mon Dec 01 22:13:04 UTC 2026\njava.io.tmpdir=/var/tmp\njdk.jfr.repository=/tmp/2026_12_01_22_13_04_7759\nwin.path=C\\:\\\\x\\=y\nname=caf\\u00e9 au lait\nlong=one \\\n    two\n  spaced : value\n');
    expect(p.get('java.io.tmpdir')).toBe('/var/tmp');
    expect(p.get('jdk.jfr.repository')).toBe('/tmp/2026_12_01_22_13_04_7759');
    expect(p.get('win.path')).toBe('C:\\x=y');
    expect(p.get('name')).toBe('café au lait');
    expect(p.get('long')).toBe('one two');
    expect(p.get('spaced')).toBe('value');
  });

  it('JFR.check verbose: the events a recording enables and their settings (JDK 17 and 25 layouts)', () => {
    const jdk17 = 'Recording 1: name=k1 (running)\n\n Socket Read (jdk.SocketRead)\n   [threshold=0 ms,stackTrace=true,enabled=true]\n Socket Write (jdk.SocketWrite)\n   [threshold=0 ms,stackTrace=true,enabled=true]\n';
    const jdk25 = 'Recording 1: name=k1 (running)\n\n Socket Read (jdk.SocketRead)\n   [threshold=0 ms,stackTrace=true,throttle=off,enabled=true]\n Socket Write (jdk.SocketWrite)\n   [threshold=0 ms,stackTrace=true,throttle=off,enabled=true]\n';
    expect([...checkedEvents(jdk17).keys()]).toEqual(['jdk.SocketRead', 'jdk.SocketWrite']);
    expect(Object.fromEntries(checkedEvents(jdk25).get('jdk.SocketRead')!)).toEqual({ threshold: '0 ms', stackTrace: 'true', throttle: 'off', enabled: 'true' });
    expect(checkedEvents('Recording 2: name=t2 (running)\n\n\n').size).toBe(0);
  });
});

describe('what attaching decides on', () => {
  const status = (cgt: string, ign = '0000000000000000') => `Name:\tjava\nState:\tS (sleeping)\nNSpid:\t4242\t17\nUid:\t1000\t1000\t1000\t1000\nGid:\t1001\t1001\t1001\t1001\nGroups:\t4 24 1001 \nSigBlk:\t0000000000000000\nSigIgn:\t${ign}\nSigCgt:\t${cgt}\n`;

  const SIGQUIT = constants.signals.SIGQUIT;
  const parseAttachStatus = parseStatus;
  it('NSpid, credentials, groups; SIGQUIT only when caught and not ignored', () => {
    const s = parseAttachStatus(status('2000000101005ccd'));
    expect(s.nspid).toEqual([4242, 17]);
    expect(s.uids).toEqual([1000, 1000, 1000, 1000]);
    expect(s.gids[1]).toBe(1001);
    expect(s.groups).toEqual([4, 24, 1001]);
    expect(s.state).toBe('S');
    expect(catchesSignal(s, SIGQUIT)).toBe(true); // a JDK 17 JVM's SigCgt (measured): bit 2 set
    expect(catchesSignal(parseAttachStatus(status('2000000101001cc8')), SIGQUIT)).toBe(false); // the same JVM with -Xrs (measured): not caught
    expect(catchesSignal(parseAttachStatus(status('2000000101005ccd', '0000000000000004')), SIGQUIT)).toBe(false);
    expect(catchesSignal(parseAttachStatus('Name:\tx\n'), SIGQUIT)).toBe(false);
  });

  it('start time survives a comm with spaces and parentheses', () => {
    expect(parseStat('4242 (my (odd) app) S 1 4242 4242 0 -1 4194560 1 0 0 0 5 3 0 0 20 0 27 0 123456 7 8')?.startTime).toBe(123456);
  });

  it('perf data: sun.rt.jvmCapabilities says whether attach is supported', () => {
    const perf = (caps: string, le = true) => {
      const name = Buffer.from('sun.rt.jvmCapabilities\0');
      const value = Buffer.from(`${caps}\0`);
      const entry = Buffer.alloc(20 + name.length + value.length);
      const w32 = (o: number, v: number) => (le ? entry.writeInt32LE(v, o) : entry.writeInt32BE(v, o));
      w32(0, entry.length); w32(4, 20); w32(8, value.length); entry[12] = 'B'.charCodeAt(0); w32(16, 20 + name.length);
      name.copy(entry, 20); value.copy(entry, 20 + name.length);
      const head = Buffer.alloc(32);
      head.writeUInt32BE(0xcafec0c0, 0); head[4] = le ? 1 : 0; head[5] = 2;
      if (le) { head.writeInt32LE(32, 24); head.writeInt32LE(1, 28); } else { head.writeInt32BE(32, 24); head.writeInt32BE(1, 28); }
      return Buffer.concat([head, entry]);
    };
    expect(attachSupported(parsePerfData(perf('1000000000000000')))).toBe(true);
    expect(attachSupported(parsePerfData(perf('0000000000000000')))).toBe(false);
    expect(attachSupported(parsePerfData(perf('1000000000000000', false)))).toBe(true);
    expect(attachSupported(parsePerfData(Buffer.from('garbage, not perf data at all............')))).toBeUndefined();
    expect(parsePerfData(perf('1').subarray(0, 40))).toBeUndefined();
  });

  it('-XX:+DisableAttachMechanism from the command line and the environment, the last one winning', () => {
    const argv = (...a: string[]) => ['java', ...a, '-cp', 'x', 'Main', '-XX:+DisableAttachMechanism'];
    expect(attachDisabledByFlags(argv(), {})).toBeUndefined(); // after the main class: an argument of the program
    expect(attachDisabledByFlags(argv('-XX:+DisableAttachMechanism'), {})).toBe(true);
    expect(attachDisabledByFlags(argv('-XX:+DisableAttachMechanism', '-XX:-DisableAttachMechanism'), {})).toBe(false);
    expect(attachDisabledByFlags(argv(), { JAVA_TOOL_OPTIONS: '-Xmx1g -XX:+DisableAttachMechanism' })).toBe(true);
    expect(attachDisabledByFlags(argv('-XX:-DisableAttachMechanism'), { JAVA_TOOL_OPTIONS: '-XX:+DisableAttachMechanism' })).toBe(false);
    expect(attachDisabledByFlags(argv(), { _JAVA_OPTIONS: '-XX:+DisableAttachMechanism' })).toBe(true);
    expect(attachDisabledByFlags(['java', '-jar', 'app.jar', '-XX:+DisableAttachMechanism'], {})).toBeUndefined();
  });

  it('only HotSpot is signalled: OpenJ9 and non-JVMs are told apart by their memory map', () => {
    const line = (p: string) => `7f0000000000-7f0000100000 r-xp 00000000 08:01 123 ${p}\n`;
    expect(parseVmKind(line('/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so'))).toBe('hotspot');
    expect(parseVmKind(line('/opt/openj9/lib/default/libj9vm29.so') + line('/opt/openj9/lib/server/libjvm.so'))).toBe('openj9');
    expect(parseVmKind(line('/usr/lib/x86_64-linux-gnu/libc.so.6'))).toBe('none');
  });

  it('--observe durations', () => {
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('30')).toBe(30_000);
    expect(parseDuration('1500ms')).toBe(1500);
    for (const bad of ['0s', '500ms', '2h', '-1s', '10 s', 'ten', '']) expect(() => parseDuration(bad), bad).toThrow(UsageError);
  });
});

const f = (type: string, method = 'read'): Frame => ({ type, method, line: 1 });

describe('what a read stack says', () => {
  it('the API that read, the first frame outside java.*, sun.*, jdk.*, and its library', () => {
    expect(classifyStack([f('java.net.Socket$SocketInputStream'), f('sun.security.ssl.SSLSocketInputRecord'), f('org.postgresql.core.VisibleBufferedInputStream', 'readMore'), f('com.zaxxer.hikari.pool.ProxyStatement', 'executeQuery')]))
      .toEqual({ api: 'stream', frame: 'org.postgresql.core.VisibleBufferedInputStream.readMore', library: 'PostgreSQL JDBC' });
    expect(classifyStack([f('sun.nio.ch.SocketChannelImpl'), f('org.apache.kafka.common.network.PlaintextTransportLayer')]))
      .toEqual({ api: 'channel', frame: 'org.apache.kafka.common.network.PlaintextTransportLayer.read', library: 'Kafka client' });
    // JDK 22+: the JDK's frames are filtered from the stack.
    expect(classifyStack([f('com.example.Client', 'poll')])).toEqual({ api: 'unknown', frame: 'com.example.Client.poll' });
    expect(classifyStack([])).toEqual({ api: 'unknown' });
    // A JDK frame names the library when the table has it: HttpURLConnection.
    expect(classifyStack([f('java.net.Socket$SocketInputStream'), f('sun.net.www.http.HttpClient'), f('sun.net.www.protocol.http.HttpURLConnection', 'getInputStream'), f('com.example.Api', 'call')]).library).toBe('JDK HttpURLConnection');
  });

  it('an I/O helper library gives way to the library below it; the longest prefix wins', () => {
    expect(libraryOf(['okio.InputStreamSource', 'okio.RealBufferedSource', 'okhttp3.internal.http1.Http1ExchangeCodec'])).toBe('OkHttp');
    expect(libraryOf(['okio.InputStreamSource', 'com.example.Mine'])).toBe('Okio');
    expect(libraryRow('org.apache.tomcat.jdbc.pool.ConnectionPool')!.library).toBe('Tomcat JDBC Pool');
    expect(libraryRow('org.apache.tomcat.util.net.NioEndpoint$NioSocketWrapper')!.library).toBe('Tomcat');
    expect(libraryRow('org.apache.hc.core5.http.impl.io.SessionInputBufferImpl')!.library).toBe('Apache HttpClient 5');
    expect(libraryRow('org.postgresqlx.Other')).toBeUndefined(); // a package boundary, not a string prefix
    expect(libraryRow('okhttp3$Inner')!.library).toBe('OkHttp');
  });

  it('addresses: one spelling per peer', () => {
    expect(normalizeAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(normalizeAddress('0:0:0:0:0:ffff:a01:203')).toBe('10.1.2.3');
    expect(normalizeAddress('FE80:0:0:0:0:0:0:1%eth0')).toBe('fe80::1');
    expect(normalizeAddress('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(normalizeAddress('[::1]')).toBe('::1');
    expect(normalizeAddress('10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeAddress('not:an:address')).toBe('not:an:address');
  });
});

function ev(kind: 'read' | 'write', address: string, port: number, timeout: number, frames: Frame[], bytes = 10): SocketIo {
  return { kind, startTime: 1, duration: 1, thread: 't', host: null, address, port, timeout: kind === 'read' ? timeout : undefined, bytes, endOfStream: false, frames, truncated: false };
}
const sock = (key: number, local: number, remote: number, extra: Partial<SocketRef> = {}): SocketRef =>
  ({ key, protocol: 'tcp6', state: 'ESTABLISHED', local: { address: '::ffff:127.0.0.1', port: local }, remote: { address: '::ffff:127.0.0.1', port: remote }, ...extra });

describe('attribution: peers to sockets', () => {
  const stream = [f('java.net.Socket$SocketInputStream'), f('com.example.Db', 'fetch')];
  const channel = [f('sun.nio.ch.SocketChannelImpl'), f('io.netty.channel.socket.nio.NioSocketChannel', 'doReadBytes')];
  const filtered = [f('com.example.Poller', 'poll')];

  it('one connection to a peer: socket; several: peer-group with the distinct timeouts as a set', () => {
    const a = new SocketActivity();
    for (const t of [3000, 3000, 1000]) a.add(ev('read', '127.0.0.1', 5432, t, stream));
    a.add(ev('write', '127.0.0.1', 5432, 0, stream, 7));
    a.add(ev('read', '127.0.0.1', 40001, 60000, stream, 1));
    const sockets = [sock(1, 40001, 5432), sock(2, 40002, 5432), sock(3, 5432, 40001), sock(4, 8080, 0, { state: 'LISTEN' }), sock(5, 9999, 0, { protocol: 'udp', state: 'UNCONN' })];
    const r = attribute(a, sockets, 10);
    const g = r.sockets.get(1)!;
    expect(g).toEqual({
      source: 'jfr', window: { seconds: 10 }, attribution: 'peer-group', soTimeout: [1000, 3000], reads: 3, bytesRead: 30, writes: 1, bytesWritten: 7,
      readers: [{ frame: 'com.example.Db.fetch' }], group: { sockets: 2 },
      notes: ['JFR names the peer, not the local port: the 2 connections to this peer are observed as one group'],
    });
    expect(r.sockets.get(2)).toBe(g);
    expect(r.sockets.get(3)).toMatchObject({ attribution: 'socket', soTimeout: [60000], reads: 1, bytesRead: 1 });
    expect(r.sockets.get(3)!.group).toBeUndefined();
    expect(r.sockets.has(4)).toBe(false);
    expect(r.sockets.has(5)).toBe(false);
    expect(r.unmatched).toEqual([]);
  });

  it('two accepted sockets of two listeners whose clients share a local port number: one peer to JFR, so one peer-group, not a guess', () => {
    // Clients on one host may use one local port towards two servers (their destinations differ): seen in CI.
    const a = new SocketActivity();
    a.add(ev('read', '127.0.0.1', 41000, 305529, stream, 1));
    a.add(ev('read', '127.0.0.1', 41000, 551729, stream, 1));
    const r = attribute(a, [sock(1, 7001, 41000), sock(2, 7002, 41000)], 10);
    expect(r.sockets.get(1)).toMatchObject({ attribution: 'peer-group', soTimeout: [305529, 551729], reads: 2, group: { sockets: 2 } });
    expect(r.sockets.get(2)).toBe(r.sockets.get(1));
  });

  it('no read in the window: "no read observed", never a value', () => {
    const r = attribute(new SocketActivity(), [sock(1, 40001, 5432)], 10);
    expect(r.sockets.get(1)).toMatchObject({ attribution: 'socket', soTimeout: [], reads: 0, writes: 0, readers: [], notes: ['no read observed'] });
  });

  it('reads that cannot carry a timeout are said so, not reported as infinite', () => {
    const a = new SocketActivity();
    a.add(ev('read', '127.0.0.1', 6000, 0, channel));
    a.add(ev('read', '127.0.0.1', 6001, 0, channel));
    a.add(ev('read', '127.0.0.1', 6002, 0, filtered));
    a.add(ev('read', '127.0.0.1', 6003, 0, filtered));
    a.add(ev('read', '127.0.0.1', 6004, 2500, filtered));
    a.add(ev('read', '127.0.0.1', 6005, 0, stream));
    const r = attribute(a, [sock(1, 1, 6000), sock(2, 2, 6001, { nonBlocking: true }), sock(3, 3, 6002, { nonBlocking: true }), sock(4, 4, 6003, { nonBlocking: false }), sock(5, 5, 6004, { nonBlocking: true }), sock(6, 6, 6005, { nonBlocking: true })], 10);
    expect(r.sockets.get(1)).toMatchObject({ soTimeout: [], notes: ['1 read(s) through SocketChannel.read: a channel read has no timeout (setSoTimeout does not apply to it)'] });
    expect(r.sockets.get(2)).toMatchObject({ soTimeout: [], notes: ['1 read(s) on a non-blocking socket (selector-driven NIO): they never wait, so no read timeout applies'] });
    expect(r.sockets.get(3)!.soTimeout).toEqual([]);
    expect(r.sockets.get(4)!.soTimeout).toEqual([0]);
    expect(r.sockets.get(4)!.notes![0]).toMatch(/reported 0: no timeout/);
    expect(r.sockets.get(5)!.soTimeout).toEqual([2500]);
    // A Socket's stream read of 0 is infinite even on a non-blocking fd (it had a timed connect).
    expect(r.sockets.get(6)!.soTimeout).toEqual([0]);
    expect(r.sockets.get(6)!.notes).toBeUndefined();
  });

  it('peers no open socket has are listed apart; libraries name the readers', () => {
    const a = new SocketActivity();
    a.add(ev('read', '10.9.8.7', 443, 5000, [f('java.net.Socket$SocketInputStream'), f('okio.InputStreamSource'), f('okhttp3.internal.http1.Http1ExchangeCodec', 'readResponseHeaders')]));
    a.add(ev('read', '0:0:0:0:0:0:0:1', 6379, 2000, [f('java.net.Socket$SocketInputStream'), f('redis.clients.jedis.util.RedisInputStream', 'ensureFill')]));
    const r = attribute(a, [sock(1, 50000, 6379, { remote: { address: '::1', port: 6379 } })], 5);
    expect(r.sockets.get(1)!.readers).toEqual([{ frame: 'redis.clients.jedis.util.RedisInputStream.ensureFill', library: 'Jedis' }]);
    expect(r.unmatched).toEqual([{ address: '10.9.8.7', port: 443, reads: 1, bytesRead: 10, writes: 0, bytesWritten: 0, soTimeout: [5000] }]);
    expect(readers(a.peers.get('10.9.8.7|443')!)).toEqual([{ frame: 'okio.InputStreamSource.read', library: 'OkHttp', reads: 1 }]);
  });

  it('an observed entry has the contract\'s names and nothing else', () => {
    const a = new SocketActivity();
    a.add(ev('read', '127.0.0.1', 5432, 30000, stream));
    const o = attribute(a, [sock(1, 1, 5432), sock(2, 2, 5432)], 10).sockets.get(1)!;
    const contract = ['source', 'window', 'attribution', 'soTimeout', 'reads', 'bytesRead', 'writes', 'bytesWritten', 'readers'];
    expect(Object.keys(o).filter((k) => !contract.includes(k))).toEqual(['group', 'notes']);
    for (const k of contract) expect(o).toHaveProperty(k);
  });
});

describe('the O_NONBLOCK hint without --observe', () => {
  const nb = { nonBlocking: { value: true, source: 'procfs' as const } };
  const blocking = { nonBlocking: { value: false, source: 'procfs' as const } };
  const both = ['java.net.Socket', 'java.nio.channels.SocketChannel'];
  const jdk = (feature: number, properties: Record<string, string> = {}) => ({ feature, properties });
  it('a non-blocking java.net.Socket on JDK 13+ had a timed read; a timed connect too where jdk-facts.json measured it so', () => {
    expect(nonBlockingHint(nb, 'connected', ['java.net.Socket'], jdk(17))).toBe('a timeout was used (the fd is non-blocking after a timed read); --observe shows its value');
    expect(nonBlockingHint(nb, 'connected', ['java.net.Socket'], jdk(25))).toMatch(/^a timeout was used \(the fd is non-blocking after a timed read or a timed connect\), unless a virtual thread/);
    // A release not measured: what every NioSocketImpl does, and the connect as a possibility.
    expect(nonBlockingHint(nb, 'connected', ['java.net.Socket'], jdk(13))).toBe('a timeout was used (the fd is non-blocking after a timed read (or, on some JDKs, a timed connect)); --observe shows its value');
    expect(nonBlockingHint(nb, 'accepted', ['java.net.Socket'], jdk(13))).toMatch(/^a timeout was used \(the fd is non-blocking after a timed read\)/);
    // JDK 19+: a virtual thread's I/O makes the fd non-blocking too.
    expect(nonBlockingHint(nb, 'connected', ['java.net.Socket'], jdk(21))).toMatch(/unless a virtual thread did its I\/O/);
    expect(nonBlockingHint(nb, 'connected', ['java.net.Socket'], jdk(17))).not.toMatch(/virtual/);
    // --observe was asked for and refused: the hint does not send the user back to it.
    expect(nonBlockingHint(nb, 'connected', ['java.net.Socket'], jdk(17), true)).toBe('a timeout was used (the fd is non-blocking after a timed read); its value is in no socket option, and --observe could not observe this JVM');
  });
  it('rests on the rows of mappings/jdk-facts.json, which every measured JDK has; a JDK whose facts deny it gets no hint', () => {
    const measured = mappings().jdkNonBlocking;
    expect(Object.keys(measured).map(Number)).toEqual(expect.arrayContaining([17, 25]));
    for (const [feature, f] of Object.entries(measured)) {
      for (const rows of Object.values(FACT_ROWS)) for (const row of Object.values(rows).filter((v) => v !== rows.cls)) expect(f, `JDK ${feature}: ${row}`).toHaveProperty([row]);
      // On each measured JDK a Socket's timed read leaves the fd non-blocking, and plain use does not: the hint's premise.
      expect([f[FACT_ROWS.connected.plain], f[FACT_ROWS.connected.timed], f[FACT_ROWS.accepted.plain], f[FACT_ROWS.accepted.timed]], `JDK ${feature}`).toEqual([false, true, false, true]);
    }
    // Which is which per JDK: a timed connect (25, not 17), a DatagramSocket's timed receive (25, not 17).
    expect([measured[17]![FACT_ROWS.connected.alsoConnect], measured[25]![FACT_ROWS.connected.alsoConnect]]).toEqual([false, true]);
    expect([measured[17]![FACT_ROWS.udp.timed], measured[25]![FACT_ROWS.udp.timed]]).toEqual([false, true]);
    const saved = measured[17]!;
    try {
      measured[17] = { ...saved, [FACT_ROWS.connected.timed]: false };
      expect(nonBlockingHint(nb, 'connected', ['java.net.Socket'], jdk(17))).toBeUndefined();
      expect(nonBlockingHint(nb, 'accepted', ['java.net.Socket'], jdk(17))).toBeDefined();
    } finally { measured[17] = saved; }
  });
  it('a DatagramSocket: only on a JDK measured to turn its fd non-blocking at a timed receive (25), and JFR cannot show the value', () => {
    const udp = ['java.net.DatagramSocket', 'java.net.MulticastSocket', 'java.nio.channels.DatagramChannel'];
    expect(nonBlockingHint(nb, 'udp', udp, jdk(25))).toBe('as a DatagramSocket: a timeout was used (the fd is non-blocking after a timed receive (DatagramSocket.setSoTimeout)), unless a virtual thread did its I/O (which makes the fd non-blocking too, JDK 19+); its value is in no socket option, and JFR records no datagram. As a DatagramChannel: configureBlocking(false), which says nothing about a timeout');
    expect(nonBlockingHint(nb, 'udp', udp, jdk(17))).toBeUndefined();
    expect(nonBlockingHint(nb, 'udp', udp, jdk(21))).toBeUndefined(); // not measured
    expect(nonBlockingHint(nb, 'udp', ['java.nio.channels.DatagramChannel'], jdk(25))).toBeUndefined();
  });
  it('where the kernel cannot tell the Socket from the SocketChannel, says what the flag means for each', () => {
    const h = nonBlockingHint(nb, 'connected', both, jdk(17))!;
    expect(h).toMatch(/^as a Socket: a timeout was used .*As a SocketChannel: configureBlocking\(false\) or an asynchronous channel, which says nothing about a timeout$/);
    expect(nonBlockingHint(nb, 'listening', ['java.net.ServerSocket', 'java.nio.channels.ServerSocketChannel'], jdk(17))).toMatch(/^as a ServerSocket: a timeout was used \(the fd is non-blocking after a timed accept \(ServerSocket.setSoTimeout\)\); its value is in no socket option/);
  });
  it('nothing for channels, blocking fds, old JDKs, PlainSocketImpl, or an unknown JDK', () => {
    expect(nonBlockingHint(nb, 'connected', ['java.nio.channels.SocketChannel'], jdk(17))).toBeUndefined();
    expect(nonBlockingHint(blocking, 'connected', both, jdk(17))).toBeUndefined();
    expect(nonBlockingHint({}, 'connected', both, jdk(17))).toBeUndefined();
    expect(nonBlockingHint(nb, 'connected', both, jdk(11))).toBeUndefined();
    expect(nonBlockingHint(nb, 'connected', both, jdk(17, { 'jdk.net.usePlainSocketImpl': 'true' }))).toBeUndefined();
    expect(nonBlockingHint(nb, 'connected', both, jdk(17, { 'jdk.net.usePlainSocketImpl': 'false' }))).toBeDefined();
    expect(nonBlockingHint(nb, 'connected', both, jdk(21, { 'jdk.net.usePlainSocketImpl': 'true' }))).toBeDefined(); // gone after 17
    expect(nonBlockingHint(nb, 'connected', both, { properties: {} })).toBeUndefined();
    expect(nonBlockingHint(nb, 'connected', both, undefined)).toBeUndefined();
  });
});
