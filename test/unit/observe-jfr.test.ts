// The JFR parser (src/observe/jfr) on synthetic chunks (every encoding, the
// edge cases) and on recordings a real JDK 17 and 25 wrote (samples/jfr),
// plus truncation and bit flips: malformed input is a FormatError, never
// anything else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../src/errors.js';
import { readers, SocketActivity } from '../../src/observe/activity.js';
import { Chunk, chunks } from '../../src/observe/jfr/recording.js';
import { ByteReader } from '../../src/observe/jfr/reader.js';
import { socketEvents, SOCKET_EVENTS, type SocketIo } from '../../src/observe/jfr/socket.js';
import { ChunkAssembler } from '../../src/observe/jfr/stream.js';
import { chunk, checkpointRecord, metadataRecord, record, W, type ClassSpec } from '../helpers/jfrwriter.js';
import { ROOT } from '../helpers/jvm.js';

const T = { long: 1, int: 2, boolean: 3, string: 4, thread: 10, stack: 11, frame: 12, method: 13, cls: 14, symbol: 15, pkg: 16, frameType: 17, loader: 18, read: 100, write: 101, other: 102 };

function classes(off = 0): ClassSpec[] {
  const t = Object.fromEntries(Object.entries(T).map(([k, v]) => [k, v + off])) as typeof T;
  return [
    { id: t.long, name: 'long' }, { id: t.int, name: 'int' }, { id: t.boolean, name: 'boolean' }, { id: t.string, name: 'java.lang.String' },
    { id: t.thread, name: 'java.lang.Thread', fields: [{ name: 'osName', type: t.string }, { name: 'osThreadId', type: t.long }, { name: 'javaName', type: t.string }, { name: 'javaThreadId', type: t.long }] },
    { id: t.stack, name: 'jdk.types.StackTrace', fields: [{ name: 'truncated', type: t.boolean }, { name: 'frames', type: t.frame, array: true }] },
    { id: t.frame, name: 'jdk.types.StackFrame', fields: [{ name: 'method', type: t.method, cp: true }, { name: 'lineNumber', type: t.int }, { name: 'bytecodeIndex', type: t.int }, { name: 'type', type: t.frameType, cp: true }] },
    { id: t.method, name: 'jdk.types.Method', fields: [{ name: 'type', type: t.cls, cp: true }, { name: 'name', type: t.symbol, cp: true }, { name: 'descriptor', type: t.symbol, cp: true }, { name: 'modifiers', type: t.int }, { name: 'hidden', type: t.boolean }] },
    { id: t.cls, name: 'java.lang.Class', fields: [{ name: 'classLoader', type: t.loader, cp: true }, { name: 'name', type: t.symbol, cp: true }, { name: 'package', type: t.pkg, cp: true }, { name: 'modifiers', type: t.int }] },
    { id: t.symbol, name: 'jdk.types.Symbol', fields: [{ name: 'string', type: t.string }] },
    { id: t.pkg, name: 'jdk.types.Package', fields: [{ name: 'name', type: t.symbol, cp: true }] },
    { id: t.frameType, name: 'jdk.types.FrameType', fields: [{ name: 'description', type: t.string }] },
    { id: t.loader, name: 'jdk.types.ClassLoader', fields: [{ name: 'type', type: t.cls, cp: true }, { name: 'name', type: t.symbol, cp: true }] },
    {
      id: t.read, name: 'jdk.SocketRead', superType: 'jdk.jfr.Event', fields: [
        { name: 'startTime', type: t.long }, { name: 'duration', type: t.long }, { name: 'eventThread', type: t.thread, cp: true }, { name: 'stackTrace', type: t.stack, cp: true },
        { name: 'host', type: t.string }, { name: 'address', type: t.string }, { name: 'port', type: t.int }, { name: 'timeout', type: t.long }, { name: 'bytesRead', type: t.long }, { name: 'endOfStream', type: t.boolean },
      ],
    },
    {
      id: t.write, name: 'jdk.SocketWrite', superType: 'jdk.jfr.Event', fields: [
        { name: 'startTime', type: t.long }, { name: 'duration', type: t.long }, { name: 'eventThread', type: t.thread, cp: true }, { name: 'stackTrace', type: t.stack, cp: true },
        { name: 'host', type: t.string }, { name: 'address', type: t.string }, { name: 'port', type: t.int }, { name: 'bytesWritten', type: t.long },
      ],
    },
    { id: t.other, name: 'jdk.SomethingElse', superType: 'jdk.jfr.Event', fields: [{ name: 'startTime', type: t.long }, { name: 'duration', type: t.long }, { name: 'text', type: t.string }] },
  ];
}

const SYMBOLS: [number, string][] = [
  [1, 'org/postgresql/core/VisibleBufferedInputStream'], [2, 'readMore'], [3, 'java/net/Socket$SocketInputStream'], [4, 'read'],
  [5, '([BII)I'], [6, 'org/postgresql'], [7, 'bootstrap'], [8, 'java/net'],
];

/** A chunk like a JDK's: metadata, events (ours and others), a checkpoint with the pools at the end. */
function socketChunk(off = 0, startTicks = 1_000n): Buffer {
  const t = Object.fromEntries(Object.entries(T).map(([k, v]) => [k, v + off])) as typeof T;
  const read = (host: (w: W) => void, address: (w: W) => void, port: number, timeout: number | bigint, bytes: number, eos = false) =>
    record(t.read, (w) => {
      w.varint(Number(startTicks) + 1000).varint(500).varint(1).varint(1);
      host(w);
      address(w);
      w.varint(port).varint(timeout).varint(bytes).u8(eos ? 1 : 0);
    });
  return chunk([
    metadataRecord(classes(off)),
    read((w) => w.str('hôst.example', 'utf8'), (w) => w.str('10.0.0.1', 'chars'), 5432, 30_000, 100),
    read((w) => w.str('pooled', 'pool', 9), (w) => w.str('10.0.0.1', 'latin1'), 5432, 30_000, 7),
    read((w) => w.str(null), (w) => w.str('0:0:0:0:0:0:0:1', 'chars'), 65535, 2n ** 40n, 0, true),
    read((w) => w.str(''), (w) => w.str('ünï', 'chars'), 1, 0, 1),
    record(t.other, (w) => w.varint(5).varint(6).str('not asked for')),
    record(999, (w) => { for (let i = 0; i < 50; i++) w.u8(0xff); }), // a type no metadata declares: skipped by its size
    record(t.write, (w) => { w.varint(Number(startTicks) + 2000).varint(10).varint(1).varint(1).str('h').str('10.0.0.1').varint(5432).varint(99); }),
    checkpointRecord([
      { type: t.thread, entries: [[1, (w) => w.str('os-thread', 'utf8').varint(42).str('worker-1', 'chars').varint(7)]] },
      { type: t.symbol, entries: SYMBOLS.map(([k, s]) => [k, (w: W) => w.str(s, k % 2 ? 'utf8' : 'chars')]) },
      // Class 2's loader is loader 1, whose type is class 2: a cycle through pools.
      { type: t.cls, entries: [[1, (w) => w.varint(1).varint(1).varint(1).varint(1)], [2, (w) => w.varint(1).varint(3).varint(2).varint(17)]] },
      { type: t.loader, entries: [[1, (w) => w.varint(2).varint(7)]] },
      { type: t.pkg, entries: [[1, (w) => w.varint(6)], [2, (w) => w.varint(8)]] },
      { type: t.method, entries: [[1, (w) => w.varint(2).varint(4).varint(5).varint(1).u8(0)], [2, (w) => w.varint(1).varint(2).varint(5).varint(1).u8(0)]] },
      { type: t.frameType, entries: [[1, (w) => w.str('JIT compiled')]] },
      { type: t.stack, entries: [[1, (w) => w.u8(0).varint(2).varint(1).varint(67).varint(0).varint(1).varint(2).varint(104).varint(3).varint(1)]] },
      { type: t.string, entries: [[9, (w) => w.str('pooled.example.com')]] },
      { type: t.other, entries: [] },
    ]),
  ], { startTicks });
}

function events(buf: Buffer, types: readonly string[] = SOCKET_EVENTS): SocketIo[] {
  const out: SocketIo[] = [];
  for (const c of chunks(buf, types)) socketEvents(c, (e) => out.push({ ...e }));
  return out;
}

describe('JFR parser: synthetic chunks', () => {
  it('reads socket events: every string encoding, pooled strings, long varints, frames and thread names', () => {
    const ev = events(socketChunk());
    expect(ev.map((e) => e.kind)).toEqual(['read', 'read', 'read', 'read', 'write']);
    expect(ev.map((e) => e.host)).toEqual(['hôst.example', 'pooled.example.com', null, '', 'h']);
    expect(ev.map((e) => e.address)).toEqual(['10.0.0.1', '10.0.0.1', '0:0:0:0:0:0:0:1', 'ünï', '10.0.0.1']);
    expect(ev.map((e) => e.port)).toEqual([5432, 5432, 65535, 1, 5432]);
    expect(ev[2]!.timeout).toBe(2 ** 40);
    expect(ev[2]!.endOfStream).toBe(true);
    expect(ev[4]!.timeout).toBeUndefined();
    expect(ev[4]!.bytes).toBe(99);
    expect(ev[0]!.thread).toBe('worker-1');
    expect(ev[0]!.startTime).toBe(1_700_000_000_000_000_000 + 1000);
    expect(ev[0]!.duration).toBe(500);
    expect(ev[0]!.frames).toEqual([
      { type: 'java.net.Socket$SocketInputStream', method: 'read', line: 67 },
      { type: 'org.postgresql.core.VisibleBufferedInputStream', method: 'readMore', line: 104 },
    ]);
    // One frames array per stack trace, shared by its events.
    expect(ev[1]!.frames).toBe(ev[0]!.frames);
  });

  it('names the reading API, the first application frame and its library', () => {
    const a = new SocketActivity();
    for (const e of events(socketChunk())) a.add(e);
    const p = a.peers.get('10.0.0.1|5432')!;
    expect(p.reads).toBe(2);
    expect(p.bytesRead).toBe(107);
    expect(p.writes).toBe(1);
    expect([...p.readKinds].map(([api, t]) => [api, [...t]])).toEqual([['stream', [[30000, 2]]]]);
    expect(readers(p)).toEqual([{ frame: 'org.postgresql.core.VisibleBufferedInputStream.readMore', library: 'PostgreSQL JDBC', reads: 2 }]);
    expect(a.peers.get('::1|65535')!.endOfStream).toBe(1);
  });

  it('reads only the types asked for: other events and undeclared records are skipped by size', () => {
    expect(events(socketChunk(), ['jdk.SocketWrite']).map((e) => e.kind)).toEqual(['write']);
    expect(events(socketChunk(), ['jdk.NotInThisChunk'])).toEqual([]);
  });

  it('reads every chunk of a recording, each with its own metadata and pools', () => {
    const two = Buffer.concat([socketChunk(0), socketChunk(1000, 5_000n)]);
    const ev = events(two);
    expect(ev).toHaveLength(10);
    expect(ev[5]!.frames[1]!.method).toBe('readMore');
    expect(ev[5]!.startTime).toBe(1_700_000_000_000_000_000 + 1000);
  });

  it('resolves values generically, through pool cycles, without looping', () => {
    const [c] = [...chunks(socketChunk(), SOCKET_EVENTS)];
    const cls = c!.constant(T.cls, 2)!;
    const v = c!.resolve(T.cls, cls) as Record<string, any>;
    expect(v.name.string).toBe('java/net/Socket$SocketInputStream');
    expect(v.classLoader.name.string).toBe('bootstrap');
    // The cycle class -> loader -> class is followed a bounded number of times, then cut.
    expect(v.classLoader.type.name.string).toBe('java/net/Socket$SocketInputStream');
    expect(JSON.stringify(v).length).toBeLessThan(100_000);
  });

  it('decodes compressed integers of every width, and negative ones', () => {
    for (const n of [0, 1, 127, 128, 16383, 16384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 35, 2 ** 49, 2 ** 52, -1, -2, -(2 ** 40)]) {
      const r = new ByteReader(new W().varint(n).buf());
      expect(r.long(), String(n)).toBe(n);
      expect(r.pos).toBe(r.end);
    }
    const r = new ByteReader(new W().varint(-1).varint(0xffffffff).varint(2 ** 31).buf());
    expect(r.int()).toBe(-1);
    expect(r.int()).toBe(-1);
    expect(r.int()).toBe(-(2 ** 31));
    expect(new ByteReader(new W().padded4(5).buf()).int()).toBe(5);
  });

  it('refuses what cannot be: a type that contains itself, lengths past the end, bad strings', () => {
    const self = chunk([
      metadataRecord([{ id: 1, name: 'long' }, { id: 2, name: 'Loop', fields: [{ name: 'next', type: 2 }] },
        { id: 3, name: 'jdk.SocketRead', fields: [{ name: 'startTime', type: 1 }, { name: 'duration', type: 1 }, { name: 'x', type: 2 }] }]),
    ]);
    expect(() => events(self)).toThrow(/contains itself/);
    expect(() => new ByteReader(new W().u8(3).varint(1 << 30).buf()).string()).toThrow(FormatError);
    expect(() => new ByteReader(new W().u8(9).buf()).string()).toThrow(/unknown string encoding/);
    expect(() => new ByteReader(new W().u8(2).varint(1).buf()).string()).toThrow(/reference where none is allowed/);
    expect(() => events(Buffer.from('not a recording at all, no magic here, and long enough to hold a header.'))).toThrow(/no FLR magic/);
    expect(() => events(Buffer.alloc(0))).toThrow(FormatError);
  });
});

/** A deterministic PRNG: the same flips on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Parses fully; returns 'ok' or 'format', and rethrows anything else (a bug). */
function outcome(buf: Buffer): 'ok' | 'format' {
  try {
    const a = new SocketActivity();
    for (const c of chunks(buf, SOCKET_EVENTS)) socketEvents(c, (e) => a.add(e));
    return 'ok';
  } catch (e) {
    if (e instanceof FormatError) return 'format';
    throw e;
  }
}

const SAMPLES = ['jdk17-sockets.jfr', 'jdk25-sockets.jfr'].map((f) => join(ROOT, 'samples', 'jfr', f));

describe('JFR parser: recordings of JDK 17 and 25 (samples/jfr)', () => {
  const expected = JSON.parse(readFileSync(join(ROOT, 'samples', 'jfr', 'expected.json'), 'utf8')) as Record<string, { reads: number; writes: number; peers: Record<string, { reads: number; bytesRead: number; writes: number; bytesWritten: number; timeouts: number[] }> }>;

  it.each(SAMPLES)('%s: the events the recording holds', (file) => {
    const want = expected[file.split('/').pop()!]!;
    const a = new SocketActivity();
    for (const c of chunks(readFileSync(file), SOCKET_EVENTS)) socketEvents(c, (e) => a.add(e));
    expect(a.reads).toBe(want.reads);
    expect(a.writes).toBe(want.writes);
    const got: typeof want.peers = {};
    for (const [k, p] of a.peers) {
      got[k] = { reads: p.reads, bytesRead: p.bytesRead, writes: p.writes, bytesWritten: p.bytesWritten, timeouts: [...new Set([...p.readKinds.values()].flatMap((t) => [...t.keys()]))].sort((x, y) => x - y) };
    }
    expect(got).toEqual(want.peers);
  });

  it.each(SAMPLES)('%s: cut short at any point, or with bits flipped, is a FormatError or still reads', (file) => {
    const buf = readFileSync(file);
    const next = rng(buf.length);
    const outcomes = { ok: 0, format: 0 };
    for (let i = 0; i < 150; i++) outcomes[outcome(buf.subarray(0, Math.floor(next() * buf.length)))]++;
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(buf);
      for (let k = 1 + Math.floor(next() * 4); k > 0; k--) b[Math.floor(next() * b.length)]! ^= 1 << Math.floor(next() * 8);
      outcomes[outcome(b)]++;
    }
    // Cuts are all caught (the chunk size no longer fits); flips mostly land in strings or counts and still read.
    expect(outcomes.format).toBeGreaterThanOrEqual(150);
    expect(outcomes.ok + outcomes.format).toBe(450);
  });

  it('a synthetic chunk cut at every byte: FormatError each time', () => {
    const buf = socketChunk();
    for (let n = 0; n < buf.length; n++) expect(outcome(buf.subarray(0, n)), `cut at ${n}`).toBe('format');
    expect(outcome(buf)).toBe('ok');
  });

  it('streamed in pieces of any size: the same chunks, one at a time', () => {
    const whole = Buffer.concat([readFileSync(SAMPLES[0]!), socketChunk(), readFileSync(SAMPLES[1]!)]);
    const next = rng(7);
    for (let round = 0; round < 5; round++) {
      const got: Buffer[] = [];
      const asm = new ChunkAssembler();
      for (let i = 0; i < whole.length;) {
        const n = 1 + Math.floor(next() * (round === 0 ? 3 : 70_000));
        asm.push(whole.subarray(i, i + n), (c) => got.push(c));
        i += n;
      }
      asm.end();
      expect(got.map((c) => c.length)).toEqual([...chunks(whole, [])].map((c) => c.info.size));
      expect(Buffer.concat(got).equals(whole)).toBe(true);
    }
    const cut = new ChunkAssembler();
    cut.push(whole.subarray(0, 1000), () => undefined);
    expect(() => cut.end()).toThrow(/cut short/);
    // A header claiming a huge chunk is refused before anything is allocated for it.
    const huge = Buffer.from(socketChunk().subarray(0, 68));
    huge.writeBigInt64BE(1n << 40n, 8);
    expect(() => new ChunkAssembler().push(huge, () => undefined)).toThrow(/outside 68/);
  });

  it('a chunk in a recording is read with its own metadata (Chunk)', () => {
    const [c] = [...chunks(readFileSync(SAMPLES[1]!), SOCKET_EVENTS)];
    expect(c).toBeInstanceOf(Chunk);
    expect(c!.info.major).toBe(2);
    expect(c!.meta.byName.get('jdk.SocketRead')!.fields.map((f) => f.name)).toEqual(
      ['startTime', 'duration', 'eventThread', 'stackTrace', 'host', 'address', 'port', 'timeout', 'bytesRead', 'endOfStream']);
  });
});
