// The BPF records' decoder (src/linux/bpfrecord.ts) and the jiffies
// arithmetic (src/linux/jiffies.ts), on made-up bytes: every field read from
// its own offset, a stream walked and a cut or foreign one refused, and the
// kernel's rounding where HZ does not divide a second. The layout against the
// built object's BTF: test/bpf-layout.test.ts.
import { describe, expect, it } from 'vitest';
import { END, KIND, OWNER, REC_VERSION, SOCK, cString, decodeSock, decodeWalk, type FieldType } from '../../src/linux/bpfrecord.js';
import { hzFromSysctls, jiffiesToMsecs, jiffiesToUsecs, lingerSeconds, MAX_SCHEDULE_TIMEOUT, timeoutMs } from '../../src/linux/jiffies.js';
import { FormatError } from '../../src/errors.js';

describe('the decoder', () => {
  it('reads every field from its own offset', () => {
    const b = Buffer.alloc(SOCK.size);
    const want: Record<string, unknown> = {};
    let v = 1;
    for (const [name, [off, type]] of Object.entries(SOCK.fields) as [string, readonly [number, FieldType]][]) {
      v++;
      switch (type) {
        case 'u8': b.writeUInt8(v & 0xff, off); want[name] = v & 0xff; break;
        case 'u16': b.writeUInt16LE(v * 257, off); want[name] = v * 257; break;
        case 'i16': b.writeInt16LE(-v, off); want[name] = -v; break;
        case 'u32': b.writeUInt32LE(v * 65537, off); want[name] = v * 65537; break;
        case 'i32': b.writeInt32LE(-v * 3, off); want[name] = -v * 3; break;
        case 'u64': b.writeBigUInt64LE(BigInt(v) * 0x100000001n, off); want[name] = v * 0x100000001; break;
        case 'i64': b.writeBigInt64LE(-BigInt(v) * 0x100000001n, off); want[name] = -BigInt(v) * 0x100000001n; break;
        case 'bytes16': for (let i = 0; i < 16; i++) b[off + i] = (v + i) & 0xff; want[name] = Buffer.from(b.subarray(off, off + 16)); break;
      }
    }
    let i = 0;
    for (const [name, [off, bit]] of Object.entries(SOCK.bits)) {
      const on = i++ % 3 !== 0;
      if (on) b.writeUInt32LE(b.readUInt32LE(off) | (1 << bit), off);
      want[name] = on;
    }
    const rec = decodeSock(b, 0) as unknown as Record<string, unknown>;
    for (const [k, w] of Object.entries(want)) expect(rec[k], k).toEqual(w);
  });

  it('reads a char[] field up to its NUL, as /proc decodes names: UTF-8 where valid, else Latin-1', () => {
    const field = (bytes: number[]) => { const b = Buffer.alloc(16); Buffer.from(bytes).copy(b); return b; };
    expect(cString(field([0x6a, 0x61, 0x76, 0x61]))).toBe('java');
    expect(cString(field([0xc3, 0xa9, 0x74, 0xc3, 0xa9]))).toBe('\u00e9t\u00e9');
    // A comm the kernel cut inside a UTF-8 sequence: every byte kept, none replaced.
    expect(cString(field([0x61, 0xc3]))).toBe('a\u00c3');
    expect(cString(Buffer.from('0123456789abcdef'))).toBe('0123456789abcdef'); // no NUL: the whole field
  });

  it('walks a stream of records, and refuses a cut or foreign one', () => {
    const rec = (size: number, kind: number, version = REC_VERSION) => {
      const b = Buffer.alloc(size);
      b.writeUInt16LE(version, 0); b.writeUInt16LE(size, 2); b[4] = kind;
      return b;
    };
    const stream = Buffer.concat([rec(SOCK.size, KIND.SOCK), rec(SOCK.size, KIND.TIMEWAIT), rec(OWNER.size, KIND.OWNER), rec(12, 99), rec(END.size, KIND.END)]);
    const w = decodeWalk(stream);
    expect([w.socks.length, w.owners.length, w.end !== undefined]).toEqual([2, 1, true]);
    expect(() => decodeWalk(stream.subarray(0, stream.length - 3))).toThrow(FormatError);
    expect(() => decodeWalk(rec(SOCK.size, KIND.SOCK, REC_VERSION + 1))).toThrow(/record version/);
    expect(() => decodeWalk(rec(OWNER.size, KIND.SOCK))).toThrow(new RegExp(`expected ${SOCK.size}`));
  });
});

describe('kernel time, as getsockopt and tcp_info convert it', () => {
  it('jiffies_to_msecs/usecs round up where HZ does not divide a second (HZ=300)', () => {
    expect([jiffiesToMsecs(1, 250), jiffiesToMsecs(250, 250), jiffiesToMsecs(1, 300), jiffiesToMsecs(3, 300), jiffiesToMsecs(7, 1000)]).toEqual([4, 1000, 4, 10, 7]);
    expect([jiffiesToUsecs(1, 250), jiffiesToUsecs(1, 300), jiffiesToUsecs(2, 100)]).toEqual([4000, 3334, 20000]);
  });

  it('SO_RCVTIMEO: none is 0, a jiffy at HZ=250 is 4 ms, long ones keep their ms', () => {
    expect(timeoutMs(MAX_SCHEDULE_TIMEOUT, 250)).toBe(0);
    expect(timeoutMs(1n, 250)).toBe(4);
    expect(timeoutMs(375n, 250)).toBe(1500);
    expect(timeoutMs(1n, 300)).toBe(3); // tv_usec = 3333: 3 ms, as the pidfd source reads the timeval
  });

  it('SO_LINGER: seconds truncated to an int, as the kernel stores l_linger', () => {
    expect(lingerSeconds(0n, 250)).toBe(0);
    expect(lingerSeconds(5n * 250n, 250)).toBe(5);
    expect(lingerSeconds(MAX_SCHEDULE_TIMEOUT, 250)).toBe(Number(BigInt.asIntN(32, MAX_SCHEDULE_TIMEOUT / 250n)));
  });

  it('HZ from sysctls read in jiffies and in seconds; none when they disagree, are 0 or unread', () => {
    const secs = { tcp_keepalive_time: '7200', tcp_keepalive_intvl: '75', tcp_fin_timeout: '0' };
    expect(hzFromSysctls({ tcp_keepalive_time: 1_800_000, tcp_keepalive_intvl: 18_750, tcp_fin_timeout: 0 }, secs)).toBe(250);
    expect(hzFromSysctls({ tcp_keepalive_time: 1_800_000, tcp_keepalive_intvl: 75_000, tcp_fin_timeout: 0 }, secs)).toBeUndefined();
    expect(hzFromSysctls({ tcp_keepalive_time: 0, tcp_keepalive_intvl: 0, tcp_fin_timeout: 0 }, secs)).toBeUndefined();
    expect(hzFromSysctls({ tcp_keepalive_time: 1_800_000, tcp_keepalive_intvl: 18_750, tcp_fin_timeout: 0 }, {})).toBeUndefined();
    expect(hzFromSysctls({ tcp_keepalive_time: 720_000, tcp_keepalive_intvl: 18_750, tcp_fin_timeout: 0 }, { tcp_keepalive_time: '7200' })).toBe(100);
  });
});

