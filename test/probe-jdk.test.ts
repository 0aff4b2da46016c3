// --probe-jdk measures the JDK's own defaults from the target's JDK, so the
// report stays right on a JDK that mappings/jdk-defaults.json does not cover.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJvm, type Jvm } from './helpers/jvm.js';
import { byPorts, reportJson } from './helpers/cli.js';
import { mappings } from '../src/mappings.js';

let jvm: Jvm;
let report: any;
beforeAll(async () => {
  jvm = await startJvm('SocketLab', ['s:server', 'ss:sschannel', 'c:client', 'u:udp', 'm:mcast', 'd:dchannel', 'di:dchannelinet', 'b:udp:broadcast=false']);
  report = reportJson(jvm.pid, ['--probe-jdk']);
});
afterAll(async () => { await jvm?.stop(); });

describe('--probe-jdk', () => {
  it('says the defaults were measured from the target\'s own JDK', () => {
    expect(report.defaults.note).toMatch(/measured from the target's own JDK: live probe of \/.*JDK 17/);
  });

  it('tells JDK defaults from application calls with the measured table', () => {
    const S = jvm.ready.sockets;
    expect(byPorts(report, S.s.localPort).java.find((c: any) => c.options.includes('SO_REUSEADDR')).origin).toBe('jdk-default');
    const u = byPorts(report, S.u.localPort);
    expect(u.java.map((c: any) => `${c.call}:${c.origin}`)).toEqual(['setBroadcast(true):jdk-default']);
    const m = byPorts(report, S.m.localPort);
    expect(m.apis[0]).toBe('java.net.MulticastSocket');
    expect(byPorts(report, S.d.localPort).apis[0]).toBe('java.nio.channels.DatagramChannel');
    expect(byPorts(report, S.di.localPort).apis[0]).toBe('java.nio.channels.DatagramChannel');
    // A DatagramSocket with setBroadcast(false) looks exactly like a plain DatagramChannel: both are named.
    const b = byPorts(report, S.b.localPort);
    expect(b.apis).toContain('java.net.DatagramSocket');
    expect(b.verdicts.SO_BROADCAST.note).toMatch(/or a (DatagramSocket|MulticastSocket) on which the code called setBroadcast\(false\): the kernel cannot tell which/);
    for (const id of ['s', 'ss', 'c', 'c.peer', 'c.peerAccepted', 'u', 'm', 'd', 'di']) {
      const s = byPorts(report, S[id].localPort, S[id].remotePort || undefined);
      expect(s.java.filter((c: any) => c.origin === 'application'), id).toEqual([]);
    }
  });

  it('agrees with mappings/jdk-defaults.json (derived from strace) where both speak', async () => {
    const table = mappings().jdk;
    expect(table.length).toBeGreaterThan(0);
    const { probeJdkDefaults } = await import('../src/java/probe.js');
    const { capture } = await import('../src/capture.js');
    const live = await probeJdkDefaults(
      { pid: jvm.pid, javaHome: report.process.jvm.javaHome, version: report.process.jvm.version },
      (p) => capture(p, { source: 'pidfd', any: true, ownProbe: true }),
    );
    let compared = 0;
    for (const row of live) {
      const fam = /6/.test(row.family) ? 6 : 4;
      const peers = table.filter((t) => t.kind === row.kind && (/6/.test(t.family) ? 6 : 4) === fam && !!t.preferIPv4Stack === !!row.preferIPv4Stack);
      for (const t of peers) {
        for (const [name, v] of Object.entries(t.options)) {
          // strace sees IPV6_V6ONLY=0 and IPV6_MULTICAST_HOPS=1 being set; a fresh socket has those values anyway.
          const live = row.options[name];
          if (live !== undefined) { expect(live, `${row.kind} ${name}`).toEqual(v); compared++; }
        }
        if (t.backlog !== undefined && row.backlog !== undefined) { expect(row.backlog).toBe(t.backlog); compared++; }
      }
    }
    expect(compared).toBeGreaterThan(3);
  });
});
