// What --observe adds, without a JVM, on the sample snapshot that carries an
// observation (samples/snapshots/timeouts-observed.json, a real TimeoutLab
// run): the snapshot schema for observed/observation, a snapshot's round trip,
// the soTimeout policy key (0 = infinite), the read timeout lines of the text,
// JUnit and check outputs, frames from the target made safe for a terminal,
// and --redact of the peers the observation names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/check/evaluate.js';
import { parseExpect, parsePolicy } from '../../src/check/policy.js';
import { analyze } from '../../src/java/analyze.js';
import { ZERO_SOCKET_OR_CHANNEL } from '../../src/model/observed.js';
import type { Capture } from '../../src/model/types.js';
import { renderCapture } from '../../src/render/capture.js';
import { renderer } from '../../src/render/index.js';
import { observedLines } from '../../src/render/format.js';
import { validate } from '../../src/schema.js';
import { parseSnapshot, renderSnapshot } from '../../src/snapshot/file.js';
import { redactCapture } from '../../src/snapshot/redact.js';
import { CAPTURE_SCHEMA } from '../../src/snapshot/schema.js';
import { ROOT } from '../helpers/root.js';

const FILE = join(ROOT, 'samples', 'snapshots', 'timeouts-observed.json');
const load = (): Capture => parseSnapshot(readFileSync(FILE), 'timeouts-observed.json').capture;
const text = async (c: Capture) => [...renderCapture(await renderer('text'), c)].join('');
/** TimeoutLab's READY line for the sample (seed=16): what it set. */
const PORTS = { g0: 41241, g1: 33617, inf: 38659, nio: 35919, idle: 38089 };

describe('the sample with an observation', () => {
  it('has what the lab set: a pool per group with its timeout (g1 alternates two), 0 for "inf", channel and selector reads without one, an idle socket', () => {
    const c = load();
    const byPeer = (port: number) => c.sockets.filter((s) => s.remote.port === port).map((s) => s.observed!);
    expect(byPeer(PORTS.g0).map((o) => [o.attribution, o.soTimeout, o.group])).toEqual([0, 1].map(() => ['peer-group', [116351], { sockets: 2 }]));
    expect(byPeer(PORTS.g1)[0]!.soTimeout).toEqual([39650, 58153]);
    expect(byPeer(PORTS.inf)[0]!.soTimeout).toEqual([0]);
    expect(byPeer(PORTS.nio)[0]).toMatchObject({ soTimeout: [], reads: 20 });
    expect(byPeer(PORTS.idle)[0]).toMatchObject({ soTimeout: [], reads: 0, notes: ['no read observed'] });
    expect(c.observation).toMatchObject({ source: 'jfr', attach: 'started', window: { seconds: 5 }, unmatched: [] });
  });

  it('round-trips through a snapshot file unchanged, and renders the same', async () => {
    const c = load();
    const again = parseSnapshot(Buffer.from([...renderSnapshot(c)].join('')), 'again').capture;
    expect(again).toEqual(c);
    expect(await text(again)).toBe(await text(c));
  });
});

describe('the snapshot schema for the observation', () => {
  const doc = () => JSON.parse(readFileSync(FILE, 'utf8'));
  const refuse = (edit: (c: any) => void, re: RegExp) => {
    const d = doc();
    edit(d.capture);
    expect(() => validate(d.capture, CAPTURE_SCHEMA, 'f', 'capture')).toThrow(re);
  };
  it('accepts the sample, and refuses damaged or smuggled fields by name', () => {
    expect(() => validate(doc().capture, CAPTURE_SCHEMA, 'f', 'capture')).not.toThrow();
    refuse((c) => { c.sockets[0].observed.soTimeout = ['30000']; }, /capture\.sockets\[0\]\.observed\.soTimeout\[0\]: expected an integer/);
    refuse((c) => { c.sockets[0].observed.soTimeout = [-1]; }, /observed\.soTimeout\[0\]: -1 is out of range/);
    refuse((c) => { c.sockets[0].observed.attribution = 'guess'; }, /observed\.attribution: expected one of "socket", "peer-group"/);
    refuse((c) => { c.sockets[0].observed.readers = [{}]; }, /observed\.readers\[0\]\.frame: missing/);
    refuse((c) => { c.sockets[0].nonBlocking = true; }, /capture\.sockets\[0\]\.nonBlocking: expected an object/);
    refuse((c) => { c.observation.window.start = 'yesterday\x1b[2J'; }, /capture\.observation\.window\.start: expected an ISO 8601 UTC time/);
    refuse((c) => { c.observation.unmatched = [{ address: 'evil\nline', port: 1, reads: 0, bytesRead: 0, writes: 0, bytesWritten: 0, soTimeout: [] }]; }, /observation\.unmatched\[0\]\.address: expected an IP address/);
    refuse((c) => { c.observation.recording.name = 'theirs'; }, /observation\.recording\.name: expected the recording's name/);
    refuse((c) => { c.notObserved = { kind: 'X Y', reason: 'r' }; }, /capture\.notObserved\.kind/);
  });
});

describe('soTimeout in policies', () => {
  const report = () => analyze(load());
  const status = (spec: string) => evaluate(report(), { rules: [parseExpect(spec)], origin: spec }).rules[0]!;

  it('--expect and policy files take it as a bound or an exact value', () => {
    expect(parseExpect('remotePort=5432:soTimeout>=1').expect).toEqual({ soTimeout: { kind: 'range', min: 1, max: undefined } });
    const p = parsePolicy(JSON.stringify({ rules: [{ name: 'a', expect: { soTimeout: { min: 1 } } }, { name: 'b', expect: { soTimeout: 30000 } }] }), 'p');
    expect(p.rules.map((r) => r.expect.soTimeout)).toEqual([{ kind: 'range', min: 1, max: undefined }, { kind: 'exact', value: 30000 }]);
    expect(() => parsePolicy(JSON.stringify({ rules: [{ name: 'a', expect: { sotimeout: 1 } }] }), 'p')).toThrow(/unknown option 'sotimeout' \(did you mean soTimeout\?\)/);
  });

  it('every value of the set must meet it; 0 is infinite and meets no bound', () => {
    expect(status(`remotePort=${PORTS.g0}:soTimeout>=1`).status).toBe('pass');
    expect(status(`remotePort=${PORTS.g0}:soTimeout=116351`).status).toBe('pass');
    expect(status(`remotePort=${PORTS.g1}:soTimeout>=40000`).sockets[0]!.failures[0]).toMatch(/expected a read timeout >= 40000 ms on .*found setSoTimeout\(39650\) \(observed on \d+ read\(s\) in 5 s, on the 2 connections to this peer together\)/);
    const inf = status(`remotePort=${PORTS.inf}:soTimeout>=1`);
    expect(inf.status).toBe('fail');
    expect(inf.sockets[0]!.failures[0]).toMatch(/found setSoTimeout\(0\) \(no timeout: infinite\)/);
    expect(status(`remotePort=${PORTS.inf}:soTimeout<=600000`).status).toBe('fail'); // infinite is more than any max
    expect(status(`remotePort=${PORTS.inf}:soTimeout=0`).status).toBe('pass');
    expect(status(`remotePort=${PORTS.inf}:soTimeout>=0`).status).toBe('pass');
  });

  it('no read, reads that cannot carry one, listeners, or no observation: unknown, never a guess', () => {
    expect(status(`remotePort=${PORTS.idle}:soTimeout>=1`).sockets[0]!.unknowns[0]).toMatch(/is unknown: no read observed in 5 s/);
    expect(status(`remotePort=${PORTS.nio}:soTimeout>=1`).sockets[0]!.unknowns[0]).toMatch(/is unknown: its 20 read\(s\) in 5 s cannot carry a timeout/);
    expect(status(`localPort=${PORTS.nio},state=LISTEN:soTimeout>=1`).sockets[0]!.unknowns[0]).toMatch(/JFR records the reads of connected TCP sockets only \(no accept events\)/);
    const bare = { ...load(), observation: undefined };
    bare.sockets = bare.sockets.map(({ observed: _o, ...s }) => s);
    expect(evaluate(analyze(bare), { rules: [parseExpect(`remotePort=${PORTS.g0}:soTimeout>=1`)], origin: 'x' }).rules[0]!.sockets[0]!.unknowns[0]).toMatch(/no socket option holds it; check a live JVM with --observe/);
    const failed = { ...bare, notObserved: { kind: 'attach-disabled', reason: 'process 7 runs with -XX:+DisableAttachMechanism' } };
    expect(evaluate(analyze(failed), { rules: [parseExpect(`remotePort=${PORTS.g0}:soTimeout>=1`)], origin: 'x' }).rules[0]!.sockets[0]!.unknowns[0]).toMatch(/the JVM could not be observed \(process 7 runs with -XX:\+DisableAttachMechanism\)/);
  });
});

describe('the read timeout line', () => {
  const o = { source: 'jfr' as const, window: { seconds: 10 }, attribution: 'socket' as const, soTimeout: [30000], reads: 412, bytesRead: 1234, writes: 3, bytesWritten: 99, readers: [{ frame: 'org.postgresql.core.VisibleBufferedInputStream.readMore', library: 'PostgreSQL JDBC' }] };
  const remote = { address: '10.0.0.5', port: 5432 };
  it('says the timeout, the reads, the bytes and the code that reads', () => {
    expect(observedLines({ observed: o, remote })).toEqual(['read timeout: setSoTimeout(30000) on 412 reads; 1,234 bytes read, 3 writes (99 bytes) in 10 s; read by org.postgresql.core.VisibleBufferedInputStream.readMore (PostgreSQL JDBC)']);
    expect(observedLines({ observed: { ...o, soTimeout: [0] }, remote })[0]).toMatch(/^read timeout: none \(setSoTimeout\(0\): infinite, a read waits forever if the peer goes silent\) on 412 reads/);
    expect(observedLines({ observed: { ...o, reads: 0, bytesRead: 0, soTimeout: [], readers: [], notes: ['no read observed'] }, remote })).toEqual(['read timeout: no read observed in 10 s; 3 writes (99 bytes)']);
    expect(observedLines({ observed: { ...o, attribution: 'peer-group', group: { sockets: 20 }, notes: ['JFR names the peer, not the local port: the 20 connections to this peer are observed as one group'] }, remote })).toEqual([
      'read timeout (peer group: the 20 connections to 10.0.0.5:5432, observed together: JFR names the peer, not the local port): setSoTimeout(30000) on 412 reads; 1,234 bytes read, 3 writes (99 bytes) in 10 s; read by org.postgresql.core.VisibleBufferedInputStream.readMore (PostgreSQL JDBC)',
    ]);
    expect(observedLines({ observed: undefined, remote })).toEqual([]);
  });

  it('frames and notes from the target reach no terminal raw: text and check outputs escape them', async () => {
    const c = load();
    const s = c.sockets.find((x) => x.observed && x.observed.reads > 0)!;
    s.observed = { ...s.observed!, readers: [{ frame: 'evil.Frame\x1b]0;owned\x07.read\nfake line', library: 'Lib\u202e' }], notes: ['note\r\x1b[2J'] };
    const t = await text(c);
    expect(t).not.toMatch(/[\x1b\x07\r\u202e]/);
    expect(t).toContain('evil.Frame\\e]0;owned\\x07.read\\nfake line (Lib\\u202e)');
    expect(t).toContain('observed: note\\r\\e[2J');
    const check = [...(await renderer('junit')).render(analyze(c) as never)].join('');
    expect(check).not.toMatch(/[\x1b\x07]/);
  });
});

describe('--redact and the observation', () => {
  it('peers of closed connections get the same aliases as the sockets, their host names hidden', () => {
    const c = load();
    c.sockets[0]!.remote.address = '10.1.2.3';
    c.observation!.unmatched = [
      { address: '10.1.2.3', port: 5432, host: 'db.internal', reads: 3, bytesRead: 30, writes: 1, bytesWritten: 5, soTimeout: [0] },
      { address: '127.0.0.1', port: 80, host: 'localhost', reads: 1, bytesRead: 1, writes: 0, bytesWritten: 0, soTimeout: [] },
    ];
    const r = redactCapture(c);
    expect(r.sockets[0]!.remote.address).toBe('addr-1');
    expect(r.observation!.unmatched.map((u) => [u.address, u.host])).toEqual([['addr-1', 'redacted'], ['127.0.0.1', 'localhost']]);
    expect(JSON.stringify(r)).not.toMatch(/10\.1\.2\.3|db\.internal/);
    expect(() => validate(JSON.parse(JSON.stringify(r)), CAPTURE_SCHEMA, 'r', 'capture')).not.toThrow();
  });
});

describe('a 0 that may be a blocking channel\'s (JDK 22+ stacks do not say which API read)', () => {
  it('is not called setSoTimeout(0), in the line, the Watch list or a check failure', async () => {
    const c = load();
    const s = c.sockets.find((x) => x.observed?.soTimeout.includes(0))!;
    const note = `40 read(s) ${ZERO_SOCKET_OR_CHANNEL}`;
    for (const x of c.sockets) if (x.observed && x.remote.port === s.remote.port) x.observed = { ...x.observed, notes: [...(x.observed.notes ?? []), note] };
    const t = await text(c);
    expect(t).toMatch(/none \(0, a Socket without setSoTimeout or a blocking SocketChannel: infinite/);
    expect(t).toMatch(/reads with no timeout were observed \(0, a Socket without setSoTimeout or a blocking SocketChannel, infinite\)/);
    expect(t).not.toMatch(new RegExp(`:${s.local.port}\\): reads with no timeout were observed \\(setSoTimeout\\(0\\)`));
    const f = evaluate(analyze(c), { rules: [parseExpect(`remotePort=${s.remote.port}:soTimeout>=1`)], origin: 'x' }).rules[0]!.sockets[0]!.failures[0];
    expect(f).toMatch(/found 0, a Socket without setSoTimeout or a blocking SocketChannel \(no timeout: infinite\)/);
  });
});
