// A JFR recording is a sequence of chunks. Each chunk: a 68-byte header, then
// records [size][type id][payload]: type 0 is the metadata event (the type
// descriptions), type 1 a checkpoint event (constant pools), anything else an
// event. We read only the event types asked for: a first pass over a chunk's
// records loads the constant pools those events can reach, a second decodes
// the events and resolves their references. Every other record is skipped by
// its size. Memory: the input buffer plus the pools of the types we keep.
import { FormatError } from '../../errors.js';
import { readMetadata, type ClassDesc, type Metadata } from './metadata.js';
import { ByteReader, PoolRef, type PoolKey } from './reader.js';

export const CHUNK_HEADER_SIZE = 68;
const MAGIC = 0x464c5200; // "FLR\0"
const METADATA_TYPE = 0;
const CHECKPOINT_TYPE = 1;

/**
 * A decoded value. Structs are arrays in field order (ClassDesc.fields); a
 * constant-pool field holds its raw key (the field's desc says which pool);
 * a string that refers to the string pool is a PoolRef.
 */
export type Value = number | boolean | string | null | PoolRef | Value[];

export interface ChunkInfo {
  offset: number;
  size: number;
  major: number;
  minor: number;
  /** Chunk start, ns since the epoch. */
  startNanos: number;
  durationNanos: number;
  startTicks: number;
  ticksPerSecond: number;
  /** Offsets of the metadata event and the last checkpoint, from the chunk's start. */
  metadataOffset: number;
  constantPoolOffset: number;
}

type Decoder = (r: ByteReader) => Value;
type Skipper = (r: ByteReader) => void;

/** Reads the header of the chunk at offset; `available` bytes of it may be present (streaming). */
export function chunkHeader(buf: Buffer, offset: number, available = buf.length - offset): ChunkInfo {
  const r = new ByteReader(buf, offset);
  if (buf.length - offset < CHUNK_HEADER_SIZE) r.fail(`chunk header cut short (${buf.length - offset} of ${CHUNK_HEADER_SIZE} bytes)`);
  if (buf.readUInt32BE(offset) !== MAGIC) r.fail('not a JFR chunk (no FLR magic)');
  r.pos += 4;
  const major = r.rawI16(), minor = r.rawI16();
  if (major !== 2) r.fail(`JFR format ${major}.${minor} is not supported (2.x is: JDK 11+, 8u262+)`, offset + 4);
  const size = r.rawI64(), cpOffset = r.rawI64(), metaOffset = r.rawI64();
  const startNanos = r.rawI64(), durationNanos = r.rawI64(), startTicks = r.rawI64(), ticksPerSecond = r.rawI64();
  if (size < CHUNK_HEADER_SIZE || size > available) r.fail(`chunk size ${size} does not fit the ${available} bytes left`, offset + 8);
  if (metaOffset < CHUNK_HEADER_SIZE || metaOffset >= size) r.fail(`metadata offset ${metaOffset} outside the chunk`, offset + 24);
  if (cpOffset < 0 || cpOffset >= size) r.fail(`constant pool offset ${cpOffset} outside the chunk`, offset + 16);
  if (!(ticksPerSecond > 0)) r.fail(`ticks per second ${ticksPerSecond}`, offset + 56);
  return { offset, size, major, minor, startNanos, durationNanos, startTicks, ticksPerSecond, metadataOffset: metaOffset, constantPoolOffset: cpOffset };
}

const PRIMITIVE_DECODERS: Record<string, Decoder> = {
  boolean: (r) => r.u8() !== 0,
  byte: (r) => (r.u8() << 24) >> 24,
  short: (r) => r.short(),
  char: (r) => r.char(),
  int: (r) => r.int(),
  long: (r) => r.long(),
  float: (r) => r.f32(),
  double: (r) => r.f64(),
};
const PRIMITIVE_SKIPPERS: Record<string, Skipper> = {
  boolean: (r) => { r.u8(); },
  byte: (r) => { r.u8(); },
  short: (r) => { r.long(); },
  char: (r) => { r.long(); },
  int: (r) => { r.long(); },
  long: (r) => { r.long(); },
  float: (r) => { r.need(4, 'a float'); r.pos += 4; },
  double: (r) => { r.need(8, 'a double'); r.pos += 8; },
};

function arrayOf(one: Decoder): Decoder {
  return (r) => {
    const n = r.count('array length', r.end - r.pos);
    const a: Value[] = new Array(n);
    for (let i = 0; i < n; i++) a[i] = one(r);
    return a;
  };
}

/** Decoders for one chunk's metadata, built once per class. */
class Codec {
  private decoders = new Map<PoolKey, Decoder>();
  private skippers = new Map<PoolKey, Skipper>();
  private building = new Set<PoolKey>();
  readonly stringType: PoolKey | undefined;

  constructor(readonly meta: Metadata) {
    this.stringType = meta.byName.get('java.lang.String')?.id;
  }

  cls(id: PoolKey, r: ByteReader): ClassDesc {
    const c = this.meta.classes.get(id);
    if (!c) r.fail(`reference to undeclared type ${id}`);
    return c;
  }

  private enter(id: PoolKey, r: ByteReader, name: string): void {
    // A class that holds itself inline (not through a pool) has no finite encoding.
    if (this.building.has(id)) r.fail(`type ${name} contains itself`);
    this.building.add(id);
  }

  decoder(id: PoolKey, r: ByteReader): Decoder {
    const have = this.decoders.get(id);
    if (have) return have;
    const c = this.cls(id, r);
    let d: Decoder;
    const prim = PRIMITIVE_DECODERS[c.name];
    if (prim && c.fields.length === 0) d = prim;
    else if (c.name === 'java.lang.String') {
      const st = this.stringType;
      d = (rr) => rr.string(st);
    } else {
      this.enter(id, r, c.name);
      const parts = c.fields.map((f) => {
        const one: Decoder = f.constantPool ? (rr) => rr.key() : this.decoder(f.typeId, r);
        return f.array ? arrayOf(one) : one;
      });
      this.building.delete(id);
      const n = parts.length;
      d = (rr) => {
        const o: Value[] = new Array(n);
        for (let i = 0; i < n; i++) o[i] = parts[i]!(rr);
        return o;
      };
    }
    this.decoders.set(id, d);
    return d;
  }

  /** Decodes an event's fields into `into` (reused between events: no allocation per event). */
  eventDecoder(id: PoolKey, r: ByteReader): (rr: ByteReader, into: Value[]) => void {
    const c = this.cls(id, r);
    const parts = c.fields.map((f) => {
      const one: Decoder = f.constantPool ? (rr) => rr.key() : this.decoder(f.typeId, r);
      return f.array ? arrayOf(one) : one;
    });
    const n = parts.length;
    return (rr, into) => {
      for (let i = 0; i < n; i++) into[i] = parts[i]!(rr);
    };
  }

  skipper(id: PoolKey, r: ByteReader): Skipper {
    const have = this.skippers.get(id);
    if (have) return have;
    const c = this.cls(id, r);
    let s: Skipper;
    const prim = PRIMITIVE_SKIPPERS[c.name];
    if (prim && c.fields.length === 0) s = prim;
    else if (c.name === 'java.lang.String') s = (rr) => rr.skipString();
    else {
      this.enter(id, r, c.name);
      const parts = c.fields.map((f) => {
        const one: Skipper = f.constantPool ? (rr) => { rr.long(); } : this.skipper(f.typeId, r);
        if (!f.array) return one;
        return (rr: ByteReader) => {
          const n = rr.count('array length', rr.end - rr.pos);
          for (let i = 0; i < n; i++) one(rr);
        };
      });
      this.building.delete(id);
      s = (rr) => { for (let i = 0; i < parts.length; i++) parts[i]!(rr); };
    }
    this.skippers.set(id, s);
    return s;
  }

  /** The types a value of these types can reach, inline or through pools. */
  reachable(roots: PoolKey[]): Set<PoolKey> {
    const seen = new Set<PoolKey>();
    const todo = [...roots];
    if (this.stringType !== undefined) todo.push(this.stringType);
    while (todo.length) {
      const id = todo.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const f of this.meta.classes.get(id)?.fields ?? []) todo.push(f.typeId);
    }
    return seen;
  }
}

/** A cursor over a chunk's records: after next(), `type` is the record's type and r reads its payload (r.end = its end). */
class Records {
  readonly r: ByteReader;
  type: PoolKey = -1;
  private pos: number;
  private readonly end: number;

  constructor(buf: Buffer, c: ChunkInfo) {
    this.end = c.offset + c.size;
    this.pos = c.offset + CHUNK_HEADER_SIZE;
    this.r = new ByteReader(buf, this.pos, this.end);
  }

  next(): boolean {
    const { r, end, pos } = this;
    if (pos >= end) return false;
    r.pos = pos;
    r.end = end;
    const size = r.count('record size', end - pos);
    if (size < 2 || pos + size > end) r.fail(`record size ${size} does not fit the chunk`, pos);
    r.end = pos + size;
    this.pos = pos + size;
    this.type = r.key();
    return true;
  }
}

/** The metadata event the chunk header points to. */
function chunkMetadata(buf: Buffer, c: ChunkInfo): Metadata {
  const at = c.offset + c.metadataOffset;
  const end = c.offset + c.size;
  const r = new ByteReader(buf, at, end);
  const size = r.count('metadata size', end - at);
  r.end = at + size;
  if (r.key() !== METADATA_TYPE) r.fail('the chunk header points to no metadata event', at);
  return readMetadata(r);
}

/**
 * One chunk, read: its metadata and the constant pools of the types the
 * wanted events can reach. Pool entries are decoded values (arrays in field
 * order for classes, strings for java.lang.String).
 */
export class Chunk {
  readonly meta: Metadata;
  private readonly codec: Codec;
  private readonly pools = new Map<PoolKey, Map<PoolKey, Value>>();
  private readonly wanted = new Map<PoolKey, { desc: ClassDesc; decode: (r: ByteReader, into: Value[]) => void }>();

  constructor(readonly buf: Buffer, readonly info: ChunkInfo, eventTypes: readonly string[]) {
    this.meta = chunkMetadata(buf, info);
    this.codec = new Codec(this.meta);
    const probe = new ByteReader(buf, info.offset, info.offset + info.size);
    for (const name of eventTypes) {
      const desc = this.meta.byName.get(name);
      if (!desc) continue; // not in this chunk's JVM
      if (desc.fields[0]?.name !== 'startTime') probe.fail(`event type ${name} does not start with startTime`);
      this.wanted.set(desc.id, { desc, decode: this.codec.eventDecoder(desc.id, probe) });
    }
    if (this.wanted.size === 0) return;
    const keep = this.codec.reachable([...this.wanted.keys()]);
    for (const rec = new Records(buf, info); rec.next();) if (rec.type === CHECKPOINT_TYPE) this.checkpoint(rec.r, keep);
  }

  private checkpoint(r: ByteReader, keep: Set<PoolKey>): void {
    r.long(); // start time
    r.long(); // duration
    r.long(); // delta to the previous checkpoint
    r.u8(); // checkpoint type (flush, chunk header, statics, thread)
    const n = r.count('constant pool count', r.end - r.pos);
    for (let i = 0; i < n; i++) {
      const typeId = r.key();
      const count = r.count('constant count', r.end - r.pos);
      if (keep.has(typeId)) {
        const d = this.codec.decoder(typeId, r);
        let m = this.pools.get(typeId);
        if (!m) this.pools.set(typeId, (m = new Map()));
        for (let j = 0; j < count; j++) {
          const key = r.key();
          m.set(key, d(r));
        }
      } else {
        const s = this.codec.skipper(typeId, r);
        for (let j = 0; j < count; j++) {
          r.long();
          s(r);
        }
      }
    }
    if (r.pos !== r.end) r.fail(`checkpoint content ends ${r.end - r.pos} bytes before its size says`);
  }

  /** The pool entry (undefined when the pool has no such key). */
  constant(typeId: PoolKey, key: PoolKey): Value | undefined {
    return this.pools.get(typeId)?.get(key);
  }

  /** A string value with a string-pool reference resolved. */
  str(v: Value | undefined): string | null {
    if (v instanceof PoolRef) v = this.constant(v.typeId, v.key);
    return typeof v === 'string' ? v : null;
  }

  /** Epoch ns of a tick value of this chunk, and ns of a tick span. */
  epochNanos(ticks: number): number {
    return this.info.startNanos + ((ticks - this.info.startTicks) * 1e9) / this.info.ticksPerSecond;
  }

  nanos(ticks: number): number {
    return (ticks * 1e9) / this.info.ticksPerSecond;
  }

  /**
   * Calls fn for each wanted event in file order with its decoded fields in
   * field order (values is reused between calls: copy what you keep).
   */
  events(fn: (desc: ClassDesc, values: Value[]) => void): void {
    if (this.wanted.size === 0) return;
    const values: Value[] = [];
    for (const rec = new Records(this.buf, this.info); rec.next();) {
      const w = this.wanted.get(rec.type);
      if (!w) continue;
      w.decode(rec.r, values);
      if (rec.r.pos > rec.r.end) rec.r.fail(`event ${w.desc.name} is larger than its record`);
      fn(w.desc, values);
    }
  }

  /** A value with its constants resolved into plain objects (for tests and debugging; slow). */
  resolve(typeId: PoolKey, v: Value, depth = 0): unknown {
    if (depth > 32) return null;
    const c = this.meta.classes.get(typeId);
    if (!c) return null;
    if (v instanceof PoolRef) return this.str(v);
    if (!Array.isArray(v) || c.fields.length === 0) return v;
    const o: Record<string, unknown> = Object.create(null);
    c.fields.forEach((f, i) => {
      const one = (x: Value): unknown => (f.constantPool ? (() => { const e = this.constant(f.typeId, x as PoolKey); return e === undefined ? null : this.resolve(f.typeId, e, depth + 1); })() : this.resolve(f.typeId, x, depth + 1));
      const x = v[i]!;
      o[f.name] = f.array && Array.isArray(x) ? x.map(one) : one(x);
    });
    return o;
  }
}

/** Splits a recording (a whole buffer) into chunks. */
export function* chunks(buf: Buffer, eventTypes: readonly string[]): Generator<Chunk> {
  if (buf.length === 0) throw new FormatError('malformed JFR recording: empty');
  let offset = 0;
  while (offset < buf.length) {
    const info = chunkHeader(buf, offset);
    yield new Chunk(buf, info, eventTypes);
    offset += info.size;
  }
}
