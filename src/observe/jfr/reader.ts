// Bounds-checked reading of JFR's encodings from a Buffer: big-endian raw
// numbers (chunk header, float, double), LEB128-style compressed integers
// (every short, char, int and long in metadata, constant pools and events)
// and JFR's tagged strings. Every read checks its bounds and throws
// FormatError: a malformed recording never reads past its end.
import { FormatError } from '../../errors.js';

/** String encodings (jdk.jfr.internal.consumer.StringParser.Encoding). */
export const STRING_NULL = 0, STRING_EMPTY = 1, STRING_POOL = 2, STRING_UTF8 = 3, STRING_CHARS = 4, STRING_LATIN1 = 5;

/** A constant-pool key. Exact as a number below 2^53, else a decimal "hi:lo" string. */
export type PoolKey = number | string;

/** A reference from a value to a constant pool entry, resolved after the chunk's pools are read. */
export class PoolRef {
  constructor(readonly typeId: PoolKey, readonly key: PoolKey) {}
}

const TWO32 = 2 ** 32;
/** Strings up to this many bytes go through the cache. */
const SHORT = 64;
/** Direct-mapped: a slot holds the last string that hashed to it. */
const CACHE_SLOTS = 1024;

export class ByteReader {
  pos: number;
  /** Last readable offset + 1 (a record's end while reading that record). */
  end: number;
  // The high and low 32 bits of the last compressed integer read.
  private hi = 0;
  private lo = 0;
  private chars = new Uint16Array(256);
  private cacheBytes: (Uint8Array | undefined)[] = new Array(CACHE_SLOTS);
  private cacheHash = new Int32Array(CACHE_SLOTS);
  private cacheStrings: (string | undefined)[] = new Array(CACHE_SLOTS);

  constructor(readonly buf: Buffer, start = 0, end = buf.length) {
    this.pos = start;
    this.end = end;
  }

  fail(what: string, at = this.pos): never {
    throw new FormatError(`malformed JFR recording: ${what} at byte ${at}`);
  }

  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) this.fail(`${what} runs past its end (${n} bytes needed, ${Math.max(0, this.end - this.pos)} left)`);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('unexpected end of data');
    return this.buf[this.pos++]!;
  }

  rawI16(): number {
    this.need(2, 'a 16-bit value');
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  rawI32(): number {
    this.need(4, 'a 32-bit value');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A raw big-endian 64-bit value as a number (exact below 2^53). */
  rawI64(): number {
    this.need(8, 'a 64-bit value');
    const hi = this.buf.readInt32BE(this.pos), lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return hi * TWO32 + lo;
  }

  f32(): number {
    this.need(4, 'a float');
    const v = this.buf.readFloatBE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8, 'a double');
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * A compressed integer: 7 bits per byte, low bits first, high bit set when
   * more follow; the 9th byte carries 8 bits (RecordingInput.readLong). Leaves
   * the 64-bit pattern in hi/lo.
   */
  private varint(): void {
    const b = this.buf;
    let pos = this.pos;
    const end = this.end;
    if (pos < end && b[pos]! < 0x80) {
      // Most values (ids, counts, small numbers) fit one byte.
      this.lo = b[pos]!;
      this.hi = 0;
      this.pos = pos + 1;
      return;
    }
    let lo = 0, hi = 0;
    for (let i = 0; i < 9; i++) {
      if (pos >= end) this.fail('compressed integer runs past its end', this.pos);
      const byte = b[pos++]!;
      if (i === 8) {
        hi = (hi | (byte << 24)) >>> 0; // bits 56..63
        break;
      }
      const bits = byte & 0x7f;
      const shift = i * 7;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (shift - 32);
      if (byte < 0x80) break;
    }
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** A compressed long as a signed number (exact within +-2^53). */
  long(): number {
    this.varint();
    const hi = this.hi >= 0x80000000 ? this.hi - TWO32 : this.hi;
    return hi * TWO32 + this.lo;
  }

  /** A compressed int (the low 32 bits, signed). */
  int(): number {
    this.varint();
    return this.lo | 0;
  }

  /** A compressed int that must be a count or index in [0, max]. */
  count(what: string, max: number): number {
    const at = this.pos;
    this.varint();
    if (this.hi !== 0 || this.lo > max) this.fail(`${what} ${this.hi ? '(huge)' : this.lo} is out of range (at most ${max})`, at);
    return this.lo;
  }

  /** A compressed short / char (low 16 bits). */
  short(): number {
    this.varint();
    return (this.lo << 16) >> 16;
  }

  char(): number {
    this.varint();
    return this.lo & 0xffff;
  }

  /** A constant-pool key or type id, exact. */
  key(): PoolKey {
    this.varint();
    return this.hi < 0x200000 ? this.hi * TWO32 + this.lo : `${this.hi}:${this.lo}`;
  }

  /**
   * A JFR string. A constant-pool reference is returned as a PoolRef to the
   * java.lang.String pool (stringType); undefined stringType means references
   * are not allowed here (the metadata's own string table).
   */
  string(stringType?: PoolKey): string | null | PoolRef {
    const at = this.pos;
    const enc = this.u8();
    switch (enc) {
      case STRING_NULL: return null;
      case STRING_EMPTY: return '';
      case STRING_POOL:
        if (stringType === undefined) this.fail('string constant reference where none is allowed', at);
        return new PoolRef(stringType, this.key());
      case STRING_UTF8:
      case STRING_LATIN1: {
        const n = this.count('string length', this.end - this.pos);
        const s = n <= SHORT ? this.shortString(n, enc === STRING_UTF8) : this.buf.toString(enc === STRING_UTF8 ? 'utf8' : 'latin1', this.pos, this.pos + n);
        this.pos += n;
        return s;
      }
      case STRING_CHARS: {
        const n = this.count('string length', this.end - this.pos);
        // Chars below 128 are one byte each: the same bytes as Latin-1 (how the JDK writes most event strings).
        const ascii = n <= SHORT ? this.shortString(n, false, true) : this.ascii(n) ? this.buf.toString('latin1', this.pos, this.pos + n) : undefined;
        if (ascii !== undefined) {
          this.pos += n;
          return ascii;
        }
        if (this.chars.length < n) this.chars = new Uint16Array(Math.max(n, this.chars.length * 2));
        const c = this.chars;
        for (let i = 0; i < n; i++) c[i] = this.char();
        let s = '';
        for (let i = 0; i < n; i += 4096) s += String.fromCharCode.apply(null, c.subarray(i, Math.min(n, i + 4096)) as unknown as number[]);
        return s;
      }
      default:
        return this.fail(`unknown string encoding ${enc}`, at);
    }
  }

  /** The next n bytes exist and are all below 0x80. */
  private ascii(n: number): boolean {
    if (this.pos + n > this.end) return false;
    const b = this.buf;
    for (let i = this.pos, e = this.pos + n; i < e; i++) if (b[i]! >= 0x80) return false;
    return true;
  }

  /**
   * A short UTF-8 / Latin-1 string, through a cache: events repeat the same
   * few host and address strings millions of times, and building each from
   * the buffer costs more than hashing its bytes.
   */
  private shortString(n: number, utf8: boolean): string;
  private shortString(n: number, utf8: boolean, asciiOnly: true): string | undefined;
  private shortString(n: number, utf8: boolean, asciiOnly = false): string | undefined {
    const b = this.buf, p = this.pos;
    if (p + n > this.end) return undefined;
    let h = utf8 ? 0x811c9dc5 : 0x050c5d1f, high = 0;
    for (let i = 0; i < n; i++) {
      const x = b[p + i]!;
      high |= x;
      h = Math.imul(h ^ x, 0x01000193);
    }
    if (asciiOnly && high >= 0x80) return undefined;
    const slot = (h ^ (h >>> 15) ^ n) & (CACHE_SLOTS - 1);
    const hit = this.cacheBytes[slot];
    if (hit !== undefined && hit.length === n && this.cacheHash[slot] === h) {
      let i = 0;
      while (i < n && hit[i] === b[p + i]) i++;
      if (i === n) return this.cacheStrings[slot]!;
    }
    const s = b.toString(utf8 ? 'utf8' : 'latin1', p, p + n);
    this.cacheBytes[slot] = b.subarray(p, p + n);
    this.cacheHash[slot] = h;
    this.cacheStrings[slot] = s;
    return s;
  }

  /** Skips a JFR string without building it. */
  skipString(): void {
    const at = this.pos;
    const enc = this.u8();
    switch (enc) {
      case STRING_NULL: case STRING_EMPTY: return;
      case STRING_POOL: this.varint(); return;
      case STRING_UTF8: case STRING_LATIN1: {
        const n = this.count('string length', this.end - this.pos);
        this.pos += n;
        return;
      }
      case STRING_CHARS: {
        const n = this.count('string length', this.end - this.pos);
        if (this.ascii(n)) this.pos += n;
        else for (let i = 0; i < n; i++) this.varint();
        return;
      }
      default:
        this.fail(`unknown string encoding ${enc}`, at);
    }
  }
}
