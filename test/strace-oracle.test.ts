// A second, independent oracle: strace records every setsockopt the JVM
// really made. Each option the JVM set must show up in the report with that
// value, explained by a call (application, JDK default or inherited), and
// every call the report attributes to the application must have happened.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJvmUnderStrace, byPort, inetSockets, optionsOf, type StracedJvm } from './helpers/strace.js';
import { reportJson } from './helpers/cli.js';
import { mappings } from '../src/mappings.js';

let jvm: StracedJvm;
let report: any;
const known = new Set(mappings().kernel.map((o) => o.name));

beforeAll(async () => {
  jvm = await startJvmUnderStrace('SocketLab', [
    'a:server:backlog=99,rcvBuf=24576,child.tcpNoDelay',
    'b:client:keepAlive,keepIdle=45,soLinger=3,sndBuf=30000,trafficClass=0x10',
    'c:sschannel:reusePort,client.tcpNoDelay',
    'u:udp:broadcast=false', 'm:mcast:ttl=3', 'd:dchannel6:loop=false',
  ]);
  report = reportJson(jvm.pid);
});
afterAll(async () => { await jvm?.stop(); });

function expectedValue(name: string, v: any): any {
  if (name === 'SO_RCVBUF' || name === 'SO_SNDBUF') return Number(v) * 2; // the kernel doubles it
  if (typeof v === 'object' && v && 'enabled' in v) return v;
  if (typeof v === 'string' && /^\d*$/.test(v)) return Number(v); // one-byte options, printed by strace as "\3" 
  return v;
}

describe('report vs strace on the same JVM', () => {
  it('every option the JVM set is in the report, with the value set, and explained by a call', () => {
    const traced = inetSockets(jvm.parse(), { openOnly: true });
    expect(traced.length).toBeGreaterThan(8);
    let checked = 0;
    for (const t of traced) {
      if (!t.local) continue;
      const s = report.sockets.find((x: any) => x.local.port === t.local!.port && (t.remote ? x.remote.port === t.remote.port : x.state === 'LISTEN' || x.protocol.startsWith('udp')));
      expect(s, `strace socket fd ${t.fd} port ${t.local.port}`).toBeTruthy();
      for (const [name, value] of Object.entries(optionsOf(t))) {
        if (!known.has(name)) continue;
        // Binding to a specific IPv6 address makes the kernel set IPV6_V6ONLY after the JDK cleared it.
        if (name === 'IPV6_V6ONLY' && /binds to a specific IPv6 address/.test(s.verdicts[name]?.note ?? '')) { expect(s.options[name].value).toBe(1); continue; }
        expect(s.options[name]?.value, `${name} on fd ${s.fd}`).toEqual(expectedValue(name, value));
        const v = s.verdicts[name];
        const call = s.java.find((j: any) => j.options.includes(name));
        // Set to the value a fresh socket has anyway (e.g. IPV6_V6ONLY=0): nothing to explain.
        if (v.origin === 'kernel-default') continue;
        expect(call, `${name}=${JSON.stringify(value)} on fd ${s.fd} (${s.role}) has no call: ${JSON.stringify(s.java)}`).toBeTruthy();
        checked++;
      }
      if (t.backlog !== undefined) expect(s.options.backlog.value).toBe(t.backlog);
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('every call the report attributes to the application was made by the JVM', () => {
    const traced = jvm.parse();
    for (const s of report.sockets) {
      const t = byPort(traced, s.local.port, s.role === 'listening' || s.role === 'udp' ? undefined : s.remote.port);
      expect(t, `fd ${s.fd}`).toBeTruthy();
      const set = optionsOf(t!);
      for (const c of s.java.filter((j: any) => j.origin === 'application')) {
        for (const name of c.options) {
          if (name === 'backlog') { expect(t!.backlog).toBe(s.options.backlog.value); continue; }
          expect(name in set, `${c.call} on fd ${s.fd}: strace saw ${JSON.stringify(set)}`).toBe(true);
        }
      }
    }
  });
});
