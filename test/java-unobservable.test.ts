// mappings/unobservable.json against the JDK: every call it lists exists on
// the class it names (javap), and setSoTimeout makes no system call on the
// socket (strace: a socket with it and one without have the same setsockopts),
// so no source can read it; the report lists it for those sockets.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mappings } from '../src/mappings.js';
import { reportJson, byPorts } from './helpers/cli.js';
import { byPort, inetSockets, straceUsable, startJvmUnderStrace, type StracedJvm } from './helpers/strace.js';

describe('mappings/unobservable.json', () => {
  it('names calls that exist on the classes named', () => {
    const rows = Object.values(mappings().unobservable).flat();
    const classes = new Map<string, string>();
    const methods = (cls: string) => {
      if (!classes.has(cls)) classes.set(cls, execFileSync('javap', ['-public', cls], { encoding: 'utf8' }));
      return classes.get(cls)!;
    };
    for (const r of rows) {
      for (const cls of r.api ? [r.api] : ['java.net.Socket', 'java.net.ServerSocket']) {
        expect(methods(cls), `${cls}.${r.call}`).toMatch(new RegExp(`public [\\w.<> ]*\\b${r.call}\\(`));
      }
    }
    expect(rows.length).toBeGreaterThan(4);
  });

  describe.skipIf(!straceUsable())('setSoTimeout under strace', () => {
    let jvm: StracedJvm;
    let report: any;
    beforeAll(async () => {
      jvm = await startJvmUnderStrace('SocketLab', ['t:client:soTimeout=5000', 'p:client', 'tu:udp:soTimeout=5000', 'pu:udp']);
      report = reportJson(jvm.pid);
    });
    afterAll(async () => { await jvm?.stop(); });

    it('makes no system call: a socket with it has the same setsockopts as one without', () => {
      const traced = inetSockets(jvm.parse());
      const S = jvm.ready.sockets;
      const calls = (id: string) => {
        const t = byPort(traced, S[id].localPort, S[id].remotePort || undefined);
        expect(t, id).toBeTruthy();
        return t!.setsockopts.map((o) => o.name).sort();
      };
      expect(calls('t')).toEqual(calls('p'));
      expect(calls('tu')).toEqual(calls('pu'));
      for (const id of ['t', 'tu']) expect(calls(id).filter((n) => /TIMEO/.test(n)), id).toEqual([]);
    });

    it('is listed as not observable on those sockets, and nothing reads a timeout', () => {
      const S = jvm.ready.sockets;
      for (const id of ['t', 'tu']) {
        const s = byPorts(report, S[id].localPort, S[id].remotePort || undefined);
        expect(s.unobservable.map((u: any) => u.call), id).toContain('setSoTimeout');
        expect(s.options.SO_RCVTIMEO?.value ?? 0, id).toBe(0);
      }
    });
  });
});
