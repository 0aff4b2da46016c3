// The records bpf/knetstat.bpf.c writes (bpf/knetstat_record.h), decoded.
// The layout tables below are the one place offsets live: the decoders read
// through them, and test/bpf-layout.test.ts checks them, field by field,
// against the BTF of the built object, so C and TypeScript cannot drift.
// Values stay as the kernel stored them (jiffies, raw flags); src/sources/bpf.ts
// applies getsockopt's conversions.
import { FormatError } from '../errors.js';

export const REC_VERSION = 1;

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
  name: 'knetstat_sock', size: 296,
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
  },
  bits: {
    keepopen: [152, 0], linger: [152, 1], urginline: [152, 2], broadcast: [152, 3], reuseport: [152, 4],
    v6only: [152, 5], mc_loop: [152, 6], mc_all: [152, 7], mc6_loop: [152, 8], mc6_all: [152, 9],
    ca_setsockopt: [152, 10], repair: [152, 11],
    has_classid: [156, 0], has_prioidx: [156, 1], has_pinet6: [156, 2], has_pingpong_thresh: [156, 3],
    has_ca_setsockopt: [156, 4],
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
  { [K in keyof L['fields']]: L['fields'][K] extends readonly [number, 'bytes16'] ? Buffer : L['fields'][K] extends readonly [number, 'i64'] ? bigint : number } &
  { [K in keyof L['bits']]: boolean };

export type SockRecord = Decoded<typeof SOCK> & { kind: number };
export type OwnerRecord = Decoded<typeof OWNER>;
export type EndRecord = Decoded<typeof END>;

// Module-level readers: the decoders below are one object literal each, so V8
// builds every record with one hidden class.
const F = SOCK.fields, B = SOCK.bits;
function u8(b: Buffer, o: number, f: readonly [number, FieldType]): number { return b[o + f[0]]!; }
function u16(b: Buffer, o: number, f: readonly [number, FieldType]): number { return b.readUInt16LE(o + f[0]); }
function i16(b: Buffer, o: number, f: readonly [number, FieldType]): number { return b.readInt16LE(o + f[0]); }
function u32(b: Buffer, o: number, f: readonly [number, FieldType]): number { return b.readUInt32LE(o + f[0]); }
function i32(b: Buffer, o: number, f: readonly [number, FieldType]): number { return b.readInt32LE(o + f[0]); }
/** Unsigned 64-bit as a Number: inodes and jiffies_64 stay far below 2^53. */
function u64(b: Buffer, o: number, f: readonly [number, FieldType]): number { return b.readUInt32LE(o + f[0] + 4) * 0x100000000 + b.readUInt32LE(o + f[0]); }
/** Signed 64-bit (jiffies timeouts, LONG_MAX = none) exactly: getsockopt's arithmetic is redone on them. */
function i64(b: Buffer, o: number, f: readonly [number, FieldType]): bigint { return b.readBigInt64LE(o + f[0]); }
function bytes(b: Buffer, o: number, f: readonly [number, FieldType]): Buffer { return b.subarray(o + f[0], o + f[0] + 16); }
function bit(b: Buffer, o: number, f: readonly [number, number]): boolean { return ((b.readUInt32LE(o + f[0]) >>> f[1]) & 1) === 1; }

export function decodeSock(b: Buffer, o: number, kind: number): SockRecord {
  return {
    kind,
    family: u8(b, o, F.family), protocol: u8(b, o, F.protocol), state: u8(b, o, F.state), shutdown: u8(b, o, F.shutdown),
    type: u16(b, o, F.type), timer: u8(b, o, F.timer), timer_retrans: u8(b, o, F.timer_retrans), fd: i32(b, o, F.fd),
    tgid: u32(b, o, F.tgid), inode: u64(b, o, F.inode), uid: u32(b, o, F.uid), netns: u32(b, o, F.netns),
    saddr: bytes(b, o, F.saddr), daddr: bytes(b, o, F.daddr), sport: u16(b, o, F.sport), dport: u16(b, o, F.dport),
    rx_queue: u32(b, o, F.rx_queue), tx_queue: u32(b, o, F.tx_queue), timer_expires: i32(b, o, F.timer_expires),
    rcvbuf: i32(b, o, F.rcvbuf), sndbuf: i32(b, o, F.sndbuf), priority: u32(b, o, F.priority), mark: u32(b, o, F.mark),
    lingertime: i64(b, o, F.lingertime), rcvtimeo: i64(b, o, F.rcvtimeo), sndtimeo: i64(b, o, F.sndtimeo),
    ack_backlog: u32(b, o, F.ack_backlog), max_ack_backlog: u32(b, o, F.max_ack_backlog), classid: u32(b, o, F.classid),
    prioidx: u16(b, o, F.prioidx), reuse: u8(b, o, F.reuse), userlocks: u8(b, o, F.userlocks), tos: u8(b, o, F.tos),
    mc_ttl: u8(b, o, F.mc_ttl), tclass: u8(b, o, F.tclass), mcast_hops: i16(b, o, F.mcast_hops),
    keepopen: bit(b, o, B.keepopen), linger: bit(b, o, B.linger), urginline: bit(b, o, B.urginline),
    broadcast: bit(b, o, B.broadcast), reuseport: bit(b, o, B.reuseport), v6only: bit(b, o, B.v6only),
    mc_loop: bit(b, o, B.mc_loop), mc_all: bit(b, o, B.mc_all), mc6_loop: bit(b, o, B.mc6_loop),
    mc6_all: bit(b, o, B.mc6_all), ca_setsockopt: bit(b, o, B.ca_setsockopt), repair: bit(b, o, B.repair),
    has_classid: bit(b, o, B.has_classid), has_prioidx: bit(b, o, B.has_prioidx), has_pinet6: bit(b, o, B.has_pinet6),
    has_pingpong_thresh: bit(b, o, B.has_pingpong_thresh), has_ca_setsockopt: bit(b, o, B.has_ca_setsockopt),
    keepalive_time: u32(b, o, F.keepalive_time), keepalive_intvl: u32(b, o, F.keepalive_intvl),
    sysctl_keepalive_time: u32(b, o, F.sysctl_keepalive_time), sysctl_keepalive_intvl: u32(b, o, F.sysctl_keepalive_intvl),
    keepalive_probes: u8(b, o, F.keepalive_probes), sysctl_keepalive_probes: u8(b, o, F.sysctl_keepalive_probes),
    nonagle: u8(b, o, F.nonagle), defer_accept: u8(b, o, F.defer_accept), user_timeout: u32(b, o, F.user_timeout),
    user_mss: u16(b, o, F.user_mss), mss_clamp: u16(b, o, F.mss_clamp), mss_cache: u32(b, o, F.mss_cache),
    notsent_lowat: u32(b, o, F.notsent_lowat), fastopen_max_qlen: i32(b, o, F.fastopen_max_qlen),
    ca_name: bytes(b, o, F.ca_name), pingpong: u8(b, o, F.pingpong), pingpong_thresh: u8(b, o, F.pingpong_thresh),
    retransmits: u8(b, o, F.retransmits), probes_out: u8(b, o, F.probes_out), backoff: u8(b, o, F.backoff),
    ca_state: u8(b, o, F.ca_state), snd_wnd: u32(b, o, F.snd_wnd), rcv_wnd: u32(b, o, F.rcv_wnd),
    packets_out: u32(b, o, F.packets_out), since_ack: u32(b, o, F.since_ack), since_data_sent: u32(b, o, F.since_data_sent),
    since_data_recv: u32(b, o, F.since_data_recv), rto: u32(b, o, F.rto), ato: u32(b, o, F.ato), rcv_mss: u32(b, o, F.rcv_mss),
    pmtu: u32(b, o, F.pmtu), srtt_us: u32(b, o, F.srtt_us), mdev_us: u32(b, o, F.mdev_us), snd_cwnd: u32(b, o, F.snd_cwnd),
    advmss: u32(b, o, F.advmss), sacked_out: u32(b, o, F.sacked_out), lost_out: u32(b, o, F.lost_out),
    retrans_out: u32(b, o, F.retrans_out), total_retrans: u32(b, o, F.total_retrans),
  };
}

export function decodeOwner(b: Buffer, o: number): OwnerRecord {
  const f = OWNER.fields;
  return { tgid: u32(b, o, f.tgid), fd: i32(b, o, f.fd), inode: u64(b, o, f.inode), comm: bytes(b, o, f.comm) };
}

export function decodeEnd(b: Buffer, o: number): EndRecord {
  const f = END.fields;
  return {
    jiffies: u64(b, o, f.jiffies), sysctl_keepalive_time: u32(b, o, f.sysctl_keepalive_time),
    sysctl_keepalive_intvl: u32(b, o, f.sysctl_keepalive_intvl), sysctl_fin_timeout: u32(b, o, f.sysctl_fin_timeout),
  };
}

/** A NUL-terminated char[] field as text. */
export function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString('latin1', 0, end >= 0 ? end : b.length);
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
    if (kind === KIND.SOCK || kind === KIND.TIMEWAIT || kind === KIND.REQUEST) walk.socks.push(decodeSock(b, o, kind));
    else if (kind === KIND.OWNER) walk.owners.push(decodeOwner(b, o));
    else if (kind === KIND.END) walk.end = decodeEnd(b, o);
    o += size; // an unknown kind is stepped over
  }
  if (o !== b.length) throw new FormatError(`${what}: ${b.length - o} trailing bytes after the last record`);
  return walk;
}
