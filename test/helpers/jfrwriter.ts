// A small JFR chunk writer for parser tests: the format as
// jdk.jfr.internal (ChunkHeader, MetadataReader, ChunkParser) reads it, with
// the encodings we want to exercise chosen explicitly (every string
// encoding, padded and long varints, cycles, unknown records).
export class W {
  bytes: number[] = [];

  u8(b: number): this { this.bytes.push(b & 0xff); return this; }
  raw16(v: number): this { return this.u8(v >> 8).u8(v); }
  raw32(v: number): this { return this.u8(v >>> 24).u8(v >>> 16).u8(v >>> 8).u8(v); }
  raw64(v: bigint): this {
    for (let i = 7; i >= 0; i--) this.u8(Number((v >> BigInt(i * 8)) & 0xffn));
    return this;
  }

  /** JFR's compressed integer: 7 bits a byte, the 9th byte takes 8 (negative values as 64-bit two's complement). */
  varint(n: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(n));
    for (let i = 0; i < 8; i++) {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      if (v === 0n) return this.u8(low);
      this.u8(low | 0x80);
    }
    return this.u8(Number(v & 0xffn));
  }

  /** A varint padded to exactly 4 bytes (how the JVM writes sizes it patches later). */
  padded4(n: number): this {
    return this.u8((n & 0x7f) | 0x80).u8(((n >> 7) & 0x7f) | 0x80).u8(((n >> 14) & 0x7f) | 0x80).u8((n >> 21) & 0x7f);
  }

  str(s: string | null, enc: 'utf8' | 'chars' | 'latin1' | 'pool' = 'utf8', poolKey = 0): this {
    if (s === null) return this.u8(0);
    if (enc === 'pool') return this.u8(2).varint(poolKey);
    if (s === '') return this.u8(1);
    if (enc === 'utf8') {
      const b = Buffer.from(s, 'utf8');
      this.u8(3).varint(b.length);
      for (const x of b) this.u8(x);
    } else if (enc === 'latin1') {
      const b = Buffer.from(s, 'latin1');
      this.u8(5).varint(b.length);
      for (const x of b) this.u8(x);
    } else {
      this.u8(4).varint(s.length);
      for (let i = 0; i < s.length; i++) this.varint(s.charCodeAt(i));
    }
    return this;
  }

  buf(): Buffer { return Buffer.from(this.bytes); }
}

/** A record: [size as a padded varint][type id][payload]. */
export function record(type: number, payload: (w: W) => void): Buffer {
  const body = new W().varint(type);
  payload(body);
  const b = body.buf();
  return Buffer.concat([new W().padded4(b.length + 4).buf(), b]);
}

export interface ClassSpec {
  id: number;
  name: string;
  superType?: string;
  fields?: { name: string; type: number; cp?: boolean; array?: boolean }[];
}

/** The metadata event: string table, then root > metadata > class > field, and root > region. */
export function metadataRecord(classes: ClassSpec[]): Buffer {
  const strings: string[] = [];
  const ix = (s: string) => {
    let i = strings.indexOf(s);
    if (i < 0) i = strings.push(s) - 1;
    return i;
  };
  interface El { name: string; attrs: [string, string][]; children: El[] }
  const root: El = {
    name: 'root', attrs: [], children: [
      {
        name: 'metadata', attrs: [], children: classes.map((c) => ({
          name: 'class',
          attrs: [['name', c.name], ['id', String(c.id)], ...(c.superType ? [['superType', c.superType] as [string, string]] : [])],
          children: (c.fields ?? []).map((f) => ({
            name: 'field',
            attrs: [['name', f.name], ['class', String(f.type)], ...(f.cp ? [['constantPool', 'true'] as [string, string]] : []), ...(f.array ? [['dimension', '1'] as [string, string]] : [])],
            children: [],
          })),
        })),
      },
      { name: 'region', attrs: [['gmtOffset', '0'], ['locale', 'en_US']], children: [] },
    ],
  };
  const walk = (e: El) => { ix(e.name); for (const [k, v] of e.attrs) { ix(k); ix(v); } e.children.forEach(walk); };
  walk(root);
  return record(0, (w) => {
    w.varint(1000).varint(0).varint(1); // start, duration, metadata id
    w.varint(strings.length);
    strings.forEach((s, i) => w.str(s, i % 2 ? 'chars' : 'utf8'));
    const el = (e: El) => {
      w.varint(ix(e.name)).varint(e.attrs.length);
      for (const [k, v] of e.attrs) w.varint(ix(k)).varint(ix(v));
      w.varint(e.children.length);
      e.children.forEach(el);
    };
    el(root);
  });
}

/** A checkpoint event with the given pools: each entry writes its key's value. */
export function checkpointRecord(pools: { type: number; entries: [number | bigint, (w: W) => void][] }[]): Buffer {
  return record(1, (w) => {
    w.varint(1000).varint(0).varint(0).u8(0).varint(pools.length);
    for (const p of pools) {
      w.varint(p.type).varint(p.entries.length);
      for (const [k, v] of p.entries) {
        w.varint(k);
        v(w);
      }
    }
  });
}

/** A chunk of these records; the header points at the first metadata and the last checkpoint. */
export function chunk(records: Buffer[], opts: { startNanos?: bigint; startTicks?: bigint; ticksPerSecond?: bigint } = {}): Buffer {
  let off = 68, meta = 0, cp = 0;
  for (const r of records) {
    const type = r[4]!; // after the padded size
    if (type === 0 && !meta) meta = off;
    if (type === 1) cp = off;
    off += r.length;
  }
  const h = new W().u8(0x46).u8(0x4c).u8(0x52).u8(0).raw16(2).raw16(1)
    .raw64(BigInt(off)).raw64(BigInt(cp)).raw64(BigInt(meta))
    .raw64(opts.startNanos ?? 1_700_000_000_000_000_000n).raw64(1_000_000_000n)
    .raw64(opts.startTicks ?? 1_000n).raw64(opts.ticksPerSecond ?? 1_000_000_000n).raw32(1);
  return Buffer.concat([h.buf(), ...records]);
}
