// The scale work (bench/results.md) changed how reports are made, not what
// they say: the JSON writer reuses the text of shared objects instead of
// calling JSON.stringify per socket, the analysis shares verdicts, the pidfd
// source reads addresses, timevals and inodes without intermediate objects.
// These tests pin the output to what the straightforward code produces, byte
// for byte, on live JVMs (the sample snapshots and hand-made corner cases:
// test/unit/json.test.ts; the pidfd reader on our own sockets:
// test/unit/sockopt.test.ts). Memory and time are measured by bench/ (npm run
// bench), never here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJvm, type Jvm } from './helpers/jvm.js';
import { expectSameJson } from './helpers/json.js';
import { capture } from '../src/capture.js';

describe('JSON output is the text JSON.stringify lays out', () => {
  let many: Jvm, lab: Jvm;
  beforeAll(async () => {
    [many, lab] = await Promise.all([
      // Listeners, client/accepted pairs, UDP: batches of sockets sharing readings and verdicts.
      startJvm('ManySockets', ['600', '4']),
      startJvm('SocketLab', [
        'ka:client:keepAlive', 'nd:client:tcpNoDelay', 'lg:client:soLinger=0', 'lg5:client:soLinger=5',
        'ra:server:reuseAddress=false', 'rp:client:reusePort', 'rb:client:rcvBuf=40000', 'sb:client:sndBuf=20000',
        'tc:client6:trafficClass=0x28', 'oob:client:oobInline', 'bc:udp:broadcast=false', 'ttl6:mcast6:ttl=9',
        'lp6:dchannel6:loop=false', 'ki:client:keepIdle=33', 'bl:server:backlog=321', 'ss:sschannel', 's6:server6',
        'sc:schannel', 'm:mcast', 'd:dchannel', 'di:dchannelinet', 'st:stall', 'ch:server:rcvBuf=65536',
        'ub:udp:rcvBuf=100000,sndBuf=1000000',
      ]),
    ]);
  });
  afterAll(async () => { await many?.stop(); await lab?.stop(); });

  it('for a JVM holding hundreds of sockets', async () => {
    const cap = await capture(many.pid);
    expect(cap.sockets.length).toBeGreaterThanOrEqual(600);
    expectSameJson(cap);
  });

  it('for a JVM whose sockets carry Java calls, hints, inherited options and zero windows', async () => {
    const cap = await capture(lab.pid);
    const text = expectSameJson(cap);
    const json = JSON.parse(text);
    // The corners are there: calls, an inherited call, hints.
    expect(json.sockets.some((s: any) => s.java.some((c: any) => c.origin === 'application'))).toBe(true);
    expect(json.sockets.some((s: any) => s.hints)).toBe(true);
    expect(json.sockets.some((s: any) => s.listener)).toBe(true);
  });

  it('for an empty report', async () => {
    const cap = await capture(many.pid);
    expectSameJson({ ...cap, sockets: [] });
  });

});
