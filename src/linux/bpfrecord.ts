// The records bpf/knetstat.bpf.c writes (bpf/knetstat_record.h), decoded.
// The layout tables below are the one place offsets live: the decoders read
// through them, and test/bpf-layout.test.ts checks them, field by field,
// against the BTF of the built object, so C and TypeScript cannot drift.
// Records are read in place (views whose getters come from the layout tables);
// values stay as the kernel stored them (jiffies, raw flags): src/sources/bpf.ts
// applies getsockopt's conversions.
import { FormatError } from '../errors.js';
import { decodeText } from './files.js';

export const REC_VERSION = 2;

export const KIND = { SOCK: 1, TIMEWAIT: 2, REQUEST: 3, OWNER: 4, END: 5 } as const;

export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 'i16' | 'i32' | 'i64' | 'bytes16';

export interface StructLayout {
  name: string;
  size: number;
  /** field -> [byte offset, type] */
  fields: Record<string, readonly [number, FieldType]>;
  /** one-bit bitfield -> [byte offset of its 32-bit word, bit number] */
  bits: Record<string, readonly [number, number]>;
}

export const HDR = {
  name: 'knetstat_hdr', size: 8,
  fields: { version: [0, 'u16'], size: [2, 'u16'], kind: [4, 'u8'] },
  bits: {},
} as const satisfies StructLayout;

export const SOCK = {
  name: 'knetstat_sock', size: 336,
  fields: {
    family: [8, 'u8'], protocol: [9, 'u8'], state: [10, 'u8'], shutdown: [11, 'u8'], type: [12, 'u16'],
    timer: [14, 'u8'], timer_retrans: [15, 'u8'], fd: [16, 'i32'], tgid: [20, 'u32'], inode: [24, 'u64'],
    uid: [32, 'u32'], netns: [36, 'u32'], saddr: [40, 'bytes16'], daddr: [56, 'bytes16'], sport: [72, 'u16'],
    dport: [74, 'u16'], rx_queue: [76, 'u32'], tx_queue: [80, 'u32'], timer_expires: [84, 'i32'],
    rcvbuf: [88, 'i32'], sndbuf: [92, 'i32'], priority: [96, 'u32'], mark: [100, 'u32'],
    lingertime: [104, 'i64'], rcvtimeo: [112, 'i64'], sndtimeo: [120, 'i64'], ack_backlog: [128, 'u32'],
    max_ack_backlog: [132, 'u32'], classid: [136, 'u32'], prioidx: [140, 'u16'], reuse: [142, 'u8'],
    userlocks: [143, 'u8'], tos: [144, 'u8'], mc_ttl: [145, 'u8'], tclass: [146, 'u8'], mcast_hops: [148, 'i16'],
    keepalive_time: [160, 'u32'], keepalive_intvl: [164, 'u32'], sysctl_keepalive_time: [168, 'u32'],
    sysctl_keepalive_intvl: [172, 'u32'], keepalive_probes: [176, 'u8'], sysctl_keepalive_probes: [177, 'u8'],
    nonagle: [178, 'u8'], defer_accept: [179, 'u8'], user_timeout: [180, 'u32'], user_mss: [184, 'u16'],
    mss_clamp: [186, 'u16'], mss_cache: [188, 'u32'], notsent_lowat: [192, 'u32'], fastopen_max_qlen: [196, 'i32'],
    ca_name: [200, 'bytes16'], pingpong: [216, 'u8'], pingpong_thresh: [217, 'u8'], retransmits: [218, 'u8'],
    probes_out: [219, 'u8'], backoff: [220, 'u8'], ca_state: [221, 'u8'], snd_wnd: [224, 'u32'],
    rcv_wnd: [228, 'u32'], packets_out: [232, 'u32'], since_ack: [236, 'u32'], since_data_sent: [240, 'u32'],
    since_data_recv: [244, 'u32'], rto: [248, 'u32'], ato: [252, 'u32'], rcv_mss: [256, 'u32'], pmtu: [260, 'u32'],
    srtt_us: [264, 'u32'], mdev_us: [268, 'u32'], snd_cwnd: [272, 'u32'], advmss: [276, 'u32'],
    sacked_out: [280, 'u32'], lost_out: [284, 'u32'], retrans_out: [288, 'u32'], total_retrans: [292, 'u32'],
    bytes_acked: [296, 'u64'], bytes_received: [304, 'u64'], bytes_sent: [312, 'u64'], bytes_retrans: [320, 'u64'],
    notsent_bytes: [328, 'u32'], file_flags: [332, 'u32'],
  },
  bits: {
    keepopen: [152, 0], linger: [152, 1], urginline: [152, 2], broadcast: [152, 3], reuseport: [152, 4],
    v6only: [152, 5], mc_loop: [152, 6], mc_all: [152, 7], mc6_loop: [152, 8], mc6_all: [152, 9],
    ca_setsockopt: [152, 10], repair: [152, 11],
    has_classid: [156, 0], has_prioidx: [156, 1], has_pinet6: [156, 2], has_pingpong_thresh: [156, 3],
    has_ca_setsockopt: [156, 4], has_file_flags: [156, 5], has_bytes_sent: [156, 6],
  },
} as const satisfies StructLayout;

export const OWNER = {
  name: 'knetstat_owner', size: 40,
  fields: { tgid: [8, 'u32'], fd: [12, 'i32'], inode: [16, 'u64'], comm: [24, 'bytes16'] },
  bits: {},
} as const satisfies StructLayout;

export const END = {
  name: 'knetstat_end', size: 32,
  fields: {
    jiffies: [8, 'u64'], sysctl_keepalive_time: [16, 'u32'], sysctl_keepalive_intvl: [20, 'u32'],
    sysctl_fin_timeout: [24, 'u32'],
  },
  bits: {},
} as const satisfies StructLayout;

type Decoded<L extends StructLayout> =
  { readonly [K in keyof L['fields']]: L['fields'][K] extends readonly [number, 'bytes16'] ? Buffer : L['fields'][K] extends readonly [number, 'i64'] ? bigint : number } &
  { readonly [K in keyof L['bits']]: boolean } &
  { readonly buf: Buffer; readonly off: number; readonly kind: number };

export type SockRecord = Decoded<typeof SOCK>;
export type OwnerRecord = Decoded<typeof OWNER>;
export type EndRecord = Decoded<typeof END>;

/**
 * A field reader for the layout's offset and type. Signed 64-bit fields (jiffies
 * timeouts, LONG_MAX = none) are exact BigInts: getsockopt's arithmetic is redone
 * on them; unsigned ones (inodes, jiffies_64) are Numbers, far below 2^53.
 */
function reader(off: number, type: FieldType): (this: { buf: Buffer; off: number }) => unknown {
  switch (type) {
    case 'u8': return function () { return this.buf[this.off + off]; };
    case 'u16': return function () { return this.buf.readUInt16LE(this.off + off); };
    case 'i16': return function () { return this.buf.readInt16LE(this.off + off); };
    case 'u32': return function () { return this.buf.readUInt32LE(this.off + off); };
    case 'i32': return function () { return this.buf.readInt32LE(this.off + off); };
    case 'u64': return function () { return this.buf.readUInt32LE(this.off + off + 4) * 0x100000000 + this.buf.readUInt32LE(this.off + off); };
    case 'i64': return function () { return this.buf.readBigInt64LE(this.off + off); };
    case 'bytes16': return function () { return this.buf.subarray(this.off + off, this.off + off + 16); };
  }
}

/**
 * A record read in place: one small object per record whose getters, made
 * from the layout table itself, read the iterator's buffer. Nothing is copied
 * that the caller does not ask for, and there is no second list of names.
 */
function viewOf<L extends StructLayout>(L: L): new (buf: Buffer, off: number) => Decoded<L> {
  class View {
    constructor(readonly buf: Buffer, readonly off: number) {}
    get kind(): number { return this.buf[this.off + HDR.fields.kind[0]]!; }
  }
  for (const [name, [off, type]] of Object.entries(L.fields)) {
    Object.defineProperty(View.prototype, name, { get: reader(off, type), enumerable: true });
  }
  for (const [name, [off, bit]] of Object.entries(L.bits)) {
    Object.defineProperty(View.prototype, name, {
      get(this: View) { return ((this.buf.readUInt32LE(this.off + off) >>> bit) & 1) === 1; },
      enumerable: true,
    });
  }
  return View as unknown as new (buf: Buffer, off: number) => Decoded<L>;
}

const SockView = viewOf(SOCK), OwnerView = viewOf(OWNER), EndView = viewOf(END);

export function decodeSock(b: Buffer, o: number): SockRecord { return new SockView(b, o); }
export function decodeOwner(b: Buffer, o: number): OwnerRecord { return new OwnerView(b, o); }
export function decodeEnd(b: Buffer, o: number): EndRecord { return new EndView(b, o); }

/** A NUL-terminated char[] field as text: UTF-8 where valid, else Latin-1, as /proc's (linux/files.ts decodeText). */
export function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return decodeText(b.subarray(0, end >= 0 ? end : b.length));
}

export interface Walk {
  socks: SockRecord[];
  owners: OwnerRecord[];
  /** Absent when the walk did not reach its end (the stream was cut). */
  end?: EndRecord;
}

const SIZES: Record<number, number> = {
  [KIND.SOCK]: SOCK.size, [KIND.TIMEWAIT]: SOCK.size, [KIND.REQUEST]: SOCK.size, [KIND.OWNER]: OWNER.size, [KIND.END]: END.size,
};

/** Every record of one iterator read. Throws FormatError on a record this decoder was not built for. */
export function decodeWalk(b: Buffer, what = 'BPF iterator'): Walk {
  const walk: Walk = { socks: [], owners: [] };
  let o = 0;
  while (o + HDR.size <= b.length) {
    const version = b.readUInt16LE(o), size = b.readUInt16LE(o + 2), kind = b[o + 4]!;
    if (version !== REC_VERSION) throw new FormatError(`${what}: record version ${version} at byte ${o}, this build reads version ${REC_VERSION} (object and tool out of step: rebuild)`);
    if (size < HDR.size || o + size > b.length) throw new FormatError(`${what}: record of ${size} bytes at byte ${o} runs past the ${b.length} bytes read`);
    const want = SIZES[kind];
    if (want !== undefined && want !== size) throw new FormatError(`${what}: kind ${kind} record of ${size} bytes, expected ${want}`);
    if (kind === KIND.SOCK || kind === KIND.TIMEWAIT || kind === KIND.REQUEST) walk.socks.push(decodeSock(b, o));
    else if (kind === KIND.OWNER) walk.owners.push(decodeOwner(b, o));
    else if (kind === KIND.END) walk.end = decodeEnd(b, o);
    o += size; // an unknown kind is stepped over
  }
  if (o !== b.length) throw new FormatError(`${what}: ${b.length - o} trailing bytes after the last record`);
  return walk;
}
