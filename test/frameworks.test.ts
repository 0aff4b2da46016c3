// Real Java stacks (Debian's Jetty 9, Netty 4, HttpClient 5, Tomcat 10): the
// report names what each sample configured, in Java terms, and recognises the
// frameworks' own defaults as hints (never as facts).
import { afterEach, describe, expect, it } from 'vitest';
import { compileFramework, frameworkMissing, FRAMEWORKS, type FrameworkName } from './helpers/frameworks.js';
import { startJvm, type Jvm } from './helpers/jvm.js';
import { byPorts, reportJson } from './helpers/cli.js';

let jvm: Jvm | undefined;
afterEach(async () => { await jvm?.stop(); jvm = undefined; });

async function run(name: FrameworkName): Promise<{ sock: (id: string) => any; report: any }> {
  jvm = await startJvm(FRAMEWORKS[name].main, [], { cp: compileFramework(name)!, timeoutMs: 90_000 });
  const j = jvm;
  // Options a framework sets on accepted sockets from another thread may land just after READY.
  await new Promise((r) => setTimeout(r, 300));
  const report = reportJson(j.pid);
  return { report, sock: (id: string) => byPorts(report, j.ready.sockets[id].localPort, j.ready.sockets[id].remotePort) };
}
const calls = (s: any, origin = 'application') => s.java.filter((c: any) => c.origin === origin).map((c: any) => c.call);

describe.skipIf(!!frameworkMissing('jetty'))('Jetty 9.4', () => {
  it('acceptQueueSize is the backlog; accepted sockets get TCP_NODELAY; the default backlog is hinted', async () => {
    const { sock } = await run('jetty');
    expect(calls(sock('customListener'))).toContain('new ServerSocket(port, 77) / bind(addr, 77)');
    const def = sock('defaultListener');
    expect(def.java.find((c: any) => c.options.includes('backlog')).origin).toBe('jdk-default');
    expect(def.hints.join(' ')).toMatch(/Jetty's ServerConnector/);
    expect(calls(sock('customAccepted'))).toContain('setTcpNoDelay(true)');
    expect(sock('customAccepted').hints.join(' ')).toMatch(/Jetty and Tomcat \(accepted sockets\)/);
    // setReceiveBufferSize(65536) reads back as 131072, which is also tcp_rmem's default here: from
    // getsockopt alone the report could not tell; the bpf source reads the kernel's lock flag: certain.
    expect(sock('customAccepted').options.SO_RCVBUF.value).toBe(131072);
    expect(sock('customAccepted').verdicts.SO_RCVBUF).toMatchObject({ origin: 'application', confidence: 'certain', note: expect.stringMatching(/^locked by a set call \(sk_userlocks, bpf\)/) });
  });
});

describe.skipIf(!!frameworkMissing('netty'))('Netty 4.1 NIO', () => {
  it('SO_BACKLOG, childOption and client options come back as calls; the default backlog is hinted as Netty\'s', async () => {
    const { sock, report } = await run('netty');
    expect(calls(sock('customListener'))).toContain('new ServerSocket(port, 200) / bind(addr, 200)');
    const def = sock('defaultListener');
    expect(def.options.backlog.value).toBe(Number(report.host.sysctls['net.core.somaxconn']));
    expect(def.hints.join(' ')).toMatch(/likely Netty's default SO_BACKLOG/);
    expect(calls(sock('customAccepted'))).toEqual(expect.arrayContaining(['setTcpNoDelay(true)', 'setKeepAlive(true)']));
    expect(calls(sock('customClient'))).toEqual(expect.arrayContaining(['setReceiveBufferSize(32768)', 'setKeepAlive(true)', 'setTrafficClass(0x10)']));
    expect(calls(sock('defaultClient'))).toEqual(['setTcpNoDelay(true)']);
  });
});

describe.skipIf(!!frameworkMissing('httpclient5'))('Apache HttpClient 5.2', () => {
  it('SocketConfig comes back as calls; soLinger in milliseconds is recognised', async () => {
    const { sock } = await run('httpclient5');
    const c = sock('customClient');
    expect(calls(c)).toEqual(expect.arrayContaining(['setKeepAlive(true)', 'setTcpNoDelay(true)', 'setSendBufferSize(32768)', 'setSoLinger(true, 4000)']));
    // rcvBufSize 65536 reads back as 131072 = tcp_rmem's default: told apart by the kernel's lock flag (bpf source).
    expect(c.verdicts.SO_RCVBUF).toMatchObject({ origin: 'application', confidence: 'certain', note: expect.stringMatching(/^locked by a set call \(sk_userlocks, bpf\)/) });
    expect(c.hints.join(' ')).toMatch(/HttpClient 5\.2.*soLinger was probably set to 4 s/);
    expect(c.unobservable.map((u: any) => u.call)).toContain('setSoTimeout'); // soTimeout 30 s: kept in Java
    // A timed read leaves the fd non-blocking, and on JDK 17 the default asynchronous group's threads are named
    // Thread-N like any unnamed thread: an AsynchronousSocketChannel may tie, and setOption is the spelling all have.
    expect(calls(sock('defaultClient'))).toEqual([expect.stringMatching(/^(setTcpNoDelay\(true\)|setOption\(StandardSocketOptions\.TCP_NODELAY, true\))$/)]);
  });
});

describe.skipIf(!!frameworkMissing('tomcat'))('Tomcat 10.1', () => {
  it('acceptCount is the backlog, 100 by default (hinted); socket.* attributes come back on accepted sockets', async () => {
    const { sock } = await run('tomcat');
    expect(calls(sock('customListener'))).toContain('new ServerSocket(port, 77) / bind(addr, 77)');
    const def = sock('defaultListener');
    expect(def.options.backlog.value).toBe(100);
    expect(def.hints.join(' ')).toMatch(/likely Tomcat's default acceptCount/);
    const acc = sock('customAccepted');
    expect(calls(acc)).toEqual(expect.arrayContaining(['setKeepAlive(true)', 'setSoLinger(true, 6)']));
  });
});
