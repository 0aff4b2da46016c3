// What real Java stacks do to their sockets, as strace sees it: each
// framework sample (samples/java/frameworks) runs under strace and the calls
// on each of its sockets are checked against the findings written down in
// samples/java/frameworks/README.md. A framework upgrade that changes them
// fails here. IPV6_V6ONLY=0 is the JDK's own call on a dual-stack host and
// is left out of every comparison.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { compileFramework, frameworkMissing, FRAMEWORKS, type FrameworkName } from './helpers/frameworks.js';
import { byPort, optionsOf, startJvmUnderStrace, straceUsable, type StracedJvm, type StraceSocket, type StraceValue } from './helpers/strace.js';

let jvm: StracedJvm | undefined;
afterEach(async () => {
  await jvm?.stop();
  jvm = undefined;
});

const canStrace = straceUsable();

/** Options set on a socket, without the JDK's IPV6_V6ONLY=0. */
function opts(s: StraceSocket): Record<string, StraceValue> {
  const o = optionsOf(s);
  delete o.IPV6_V6ONLY;
  return o;
}

function calls(s: StraceSocket, name: string): StraceValue[] {
  return s.setsockopts.filter((o) => o.name === name && o.result === 0).map((o) => o.value);
}

async function start(name: FrameworkName): Promise<{ jvm: StracedJvm; sock: (id: string) => StraceSocket }> {
  const cp = compileFramework(name)!;
  jvm = await startJvmUnderStrace(FRAMEWORKS[name].main, [], { cp, timeoutMs: 90000 });
  const j = jvm;
  const sock = (id: string) => {
    const e = j.ready.sockets[id];
    if (!e) throw new Error(`${FRAMEWORKS[name].main} reported no socket ${id}`);
    const s = byPort(j.parse(), e.localPort, e.remotePort);
    if (!s) throw new Error(`strace shows no socket for ${id} (port ${e.localPort}${e.remotePort ? ` <- ${e.remotePort}` : ''})`);
    return s;
  };
  return { jvm: j, sock };
}

/** Options set on accepted sockets by another thread may land just after READY. */
async function settled<T>(f: () => T, ok: (t: T) => boolean, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  let v = f();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    v = f();
  }
  return v;
}

const tcpTos = (s: StraceSocket) => (s.family === 'AF_INET6' ? 'IPV6_TCLASS' : 'IP_TOS');

describe.skipIf(!canStrace || !!frameworkMissing('jetty'))('Jetty 9.4 ServerConnector', () => {
  it('sets SO_REUSEADDR itself, acceptQueueSize as the backlog, TCP_NODELAY on accepted sockets; soLingerTime does nothing', async () => {
    const { sock } = await start('jetty');
    const cl = sock('customListener');
    expect(cl.backlog).toBe(77);
    expect(calls(cl, 'SO_REUSEADDR')).toEqual([1, 1]); // the JDK's, then setReuseAddress(true)
    expect(opts(cl)).toEqual({ SO_REUSEADDR: 1 });
    const dl = sock('defaultListener');
    expect(dl.backlog).toBe(50); // acceptQueueSize 0: the JDK's default
    expect(calls(dl, 'SO_REUSEADDR')).toEqual([1, 1]); // reuseAddress defaults to true
    const ca = await settled(() => sock('customAccepted'), (s) => !!opts(s).SO_RCVBUF);
    expect(opts(ca)).toEqual({ TCP_NODELAY: 1, SO_RCVBUF: 65536 }); // no SO_LINGER despite setSoLingerTime(5)
    expect(opts(await settled(() => sock('defaultAccepted'), (s) => !!opts(s).TCP_NODELAY))).toEqual({ TCP_NODELAY: 1 });
    expect(opts(sock('customClient'))).toEqual({});
  });
});

describe.skipIf(!canStrace || !!frameworkMissing('netty'))('Netty 4.1 NIO', () => {
  it('backlog = SO_BACKLOG or somaxconn, TCP_NODELAY on every socket channel, child options on accepted ones', async () => {
    const { jvm: j, sock } = await start('netty');
    const cl = sock('customListener');
    expect(cl.backlog).toBe(200);
    expect(calls(cl, 'SO_REUSEADDR')).toEqual([1, 1]); // the JDK's, then option(SO_REUSEADDR, true)
    const dl = sock('defaultListener');
    // NetUtil.SOMAXCONN: /proc/sys/net/core/somaxconn, read when Netty loads.
    expect(dl.backlog).toBe(Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim()));
    expect(calls(dl, 'SO_REUSEADDR')).toEqual([1]); // only the JDK's
    const ca = await settled(() => sock('customAccepted'), (s) => !!opts(s).SO_KEEPALIVE);
    expect(calls(ca, 'TCP_NODELAY')).toEqual([1, 1]); // DefaultSocketChannelConfig, then childOption
    expect(opts(ca)).toEqual({ TCP_NODELAY: 1, SO_KEEPALIVE: 1 });
    expect(opts(await settled(() => sock('defaultAccepted'), (s) => !!opts(s).TCP_NODELAY))).toEqual({ TCP_NODELAY: 1 });
    const cc = sock('customClient');
    expect(opts(cc)).toEqual({ TCP_NODELAY: 1, SO_RCVBUF: 32768, SO_KEEPALIVE: 1, [tcpTos(cc)]: 16 });
    expect(opts(sock('defaultClient'))).toEqual({ TCP_NODELAY: 1 });
    // Debian's libnetty-java has the epoll classes but not the native library.
    if (!j.ready.epoll.available) expect(j.ready.epoll.rootCause ?? j.ready.epoll.cause).toMatch(/netty_transport_native_epoll/);
  });
});

describe.skipIf(!canStrace || !!frameworkMissing('httpclient5'))('Apache HttpClient 5 classic', () => {
  it('always sets SO_REUSEADDR=0, TCP_NODELAY and SO_KEEPALIVE; soLinger goes to the kernel in milliseconds', async () => {
    const { sock } = await start('httpclient5');
    expect(opts(sock('customClient'))).toEqual({
      SO_REUSEADDR: 0, TCP_NODELAY: 1, SO_KEEPALIVE: 1, SO_RCVBUF: 65536, SO_SNDBUF: 32768,
      SO_LINGER: { enabled: true, seconds: 4000 }, // setSoLinger(TimeValue.ofSeconds(4))
    });
    expect(opts(sock('defaultClient'))).toEqual({ SO_REUSEADDR: 0, TCP_NODELAY: 1, SO_KEEPALIVE: 0 });
    expect(opts(sock('customAccepted'))).toEqual({});
  });
});

describe.skipIf(!canStrace || !!frameworkMissing('tomcat'))('embedded Tomcat 10.1 NIO connector', () => {
  it('backlog = acceptCount (default 100), rxBufSize on the listener, SO_LINGER and TCP_NODELAY on every accepted socket', async () => {
    const { sock } = await start('tomcat');
    const cl = sock('customListener');
    expect(cl.backlog).toBe(77);
    expect(opts(cl)).toEqual({ SO_REUSEADDR: 1, SO_RCVBUF: 65536 });
    expect(calls(cl, 'SO_REUSEADDR')).toEqual([1]); // the JDK's only
    const dl = sock('defaultListener');
    expect(dl.backlog).toBe(100);
    expect(opts(dl)).toEqual({ SO_REUSEADDR: 1 });
    const ca = await settled(() => sock('customAccepted'), (s) => 'TCP_NODELAY' in opts(s));
    expect(opts(ca)).toEqual({ SO_RCVBUF: 65536, SO_KEEPALIVE: 1, SO_LINGER: { enabled: true, seconds: 6 }, TCP_NODELAY: 0 });
    const da = await settled(() => sock('defaultAccepted'), (s) => 'TCP_NODELAY' in opts(s));
    expect(opts(da)).toEqual({ SO_LINGER: { enabled: false, seconds: 0 }, TCP_NODELAY: 1 });
  });
});
