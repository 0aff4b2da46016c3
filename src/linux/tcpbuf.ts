// How the kernel sizes a TCP socket's buffers by itself, so that a size it
// never gives can be told from one a set call gave:
//  - send: tcp_init_buffer_space() runs tcp_sndbuf_expand() when a connection
//    is established, for every socket whose SO_SNDBUF is not locked, and
//    tcp_new_space() again as acknowledged data frees room (net/ipv4/tcp_input.c):
//        sndbuf = min(m * nr_segs * per_mss, tcp_wmem[2])
//    m = the congestion control's sndbuf_expand (3 for BBR, else 2), nr_segs =
//    max(TCP_INIT_CWND = 10, snd_cwnd, reordering + 1), and per_mss =
//    roundup_pow_of_two(max(mss_clamp, mss_cache) + MAX_TCP_HEADER +
//    SKB_DATA_ALIGN(sizeof(skb_shared_info))) + SKB_DATA_ALIGN(sizeof(sk_buff)).
//    Measured here (6.18, BBR): unlocked sockets read 30 x 131328 = 3939840 on
//    loopback, 38400 with a 500-byte MSS, 69120 with 1000 and 1448, 499200 with 8000.
//  - receive: tcp_rcvbuf_grow() (tcp_rcv_space_adjust) only as the
//    application reads data; it stops at tcp_rmem[2].
//  - setsockopt(SO_SNDBUF/SO_RCVBUF, n) stores max(2 * min(n, *mem_max),
//    SOCK_MIN_*BUF) and locks the size (net/core/sock.c): always even.
// The sizes of struct sk_buff and skb_shared_info depend on the kernel's
// configuration: the per-segment sizes are the few a Linux build can give.
import type { TcpInfo } from '../model/types.js';

/** SKB_DATA_ALIGN(sizeof(struct sk_buff)) on the builds a report may come from (x86_64 and arm64: 256). */
const SKB_OVERHEAD = [256, 320, 384];
/** MAX_TCP_HEADER + SKB_DATA_ALIGN(sizeof(struct skb_shared_info)): from ~448 up to ~1088 (CONFIG_MAX_SKB_FRAGS 45). */
const HEAD_MIN = 448, HEAD_MAX = 1088;
/** TCP_INIT_CWND (include/net/tcp.h). */
export const TCP_INIT_CWND = 10;

/** perSegmentSizes by MSS: the connections of a host share a few MSS values (one array each, read-only). */
const bySize = new Map<number, number[]>();
const NONE: number[] = [];

/** The per-segment sizes tcp_sndbuf_expand may have used on a connection with these MSS readings, ascending; shared, read-only. */
export function perSegmentSizes(info: Pick<TcpInfo, 'sndMss' | 'advmss' | 'rcvMss'>): number[] {
  const mss = Math.max(info.sndMss, info.advmss, info.rcvMss);
  if (!(mss > 0)) return NONE;
  let sizes = bySize.get(mss);
  if (!sizes) {
    const lo = Math.ceil(Math.log2(mss + HEAD_MIN)), hi = Math.ceil(Math.log2(mss + HEAD_MAX)) + 1;
    const out = new Set<number>();
    for (let j = lo; j <= hi; j++) for (const c of SKB_OVERHEAD) out.add(2 ** j + c);
    sizes = [...out].sort((a, b) => a - b);
    if (bySize.size < 4096) bySize.set(mss, sizes);
  }
  return sizes;
}

/** The congestion control's sndbuf_expand factor: BBR asks for 3 segments' room per cwnd, the others for 2. */
export function sndbufFactors(congestion: string | undefined): number[] {
  if (congestion === undefined) return [2, 3];
  return /^bbr/.test(congestion) ? [3] : [2];
}

export interface SndbufFacts {
  /** tcp_wmem: min, default, max. */
  wmem: number[];
  perSegment: number[];
  factors: number[];
  /** snd_cwnd now; with no data acknowledged yet, the cwnd the expansion at connection setup used. */
  cwnd: number;
  /** The socket's own data has been acknowledged: later expansions may have grown it (undefined: cannot tell). */
  grew: boolean | undefined;
}

/**
 * Whether an unlocked send buffer of an established connection can have this
 * size: 'setup' (exactly what the expansion at connection setup gives), 'grown'
 * (a later expansion's size), 'cap' (tcp_wmem[2], where every expansion stops),
 * 'initial' (tcp_wmem[1], when the expansion would not have grown it), or false:
 * the kernel never gives it by itself.
 */
export function sndbufFromKernel(v: number, f: SndbufFacts): 'setup' | 'grown' | 'cap' | 'initial' | false {
  const cap = f.wmem[2], initial = f.wmem[1];
  if (cap !== undefined && v === cap) return 'cap';
  if (cap !== undefined && v > cap) return false;
  const nr0 = Math.max(TCP_INIT_CWND, f.cwnd);
  let smallest = Infinity;
  for (const p of f.perSegment) {
    for (const m of f.factors) {
      const setup = m * nr0 * p;
      smallest = Math.min(smallest, m * TCP_INIT_CWND * p);
      if (v === setup) return 'setup';
      // Once data flowed, cwnd may have moved either way since the setup and the later expansions
      // (each only grows the buffer): any m x nr x per_mss with nr >= TCP_INIT_CWND.
      if (f.grew !== false && v % p === 0 && (v / p) % m === 0 && v / p >= m * TCP_INIT_CWND) return v / p === m * TCP_INIT_CWND ? 'setup' : 'grown';
    }
  }
  if (initial !== undefined && v === initial && initial >= smallest) return 'initial';
  return false;
}

/** The expansion at connection setup reaches tcp_wmem[2] for some of the possible per-segment sizes: an unlocked buffer may sit at the cap from the start. */
export function setupMayReachCap(f: SndbufFacts): boolean {
  const cap = f.wmem[2];
  if (cap === undefined) return true;
  const nr0 = Math.max(TCP_INIT_CWND, f.cwnd);
  return f.perSegment.some((p) => f.factors.some((m) => m * nr0 * p >= cap));
}
