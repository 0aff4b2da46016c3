// The bpf source: BPF iterators (bpf/knetstat.bpf.c) read every TCP/UDP
// socket of the target straight from the kernel's structures. No fd is
// duplicated into this process and no option is asked for: one read() of an
// iterator returns them all. What only this source can tell: whether a value
// was set on the socket (sk_userlocks' buffer and bind locks, keepalive
// times stored as 0 = "follows the sysctl", icsk_ca_setsockopt, user_mss),
// recorded as OptionReading.explicit, RawSocket.userLocks and .bindLocks.
//
// Every value is converted the way getsockopt() converts the same field
// (net/core/sock.c sk_getsockopt, net/ipv4/tcp.c do_tcp_getsockopt,
// ip_sockglue.c, ipv6_sockglue.c), so bpf and pidfd report equal values.
import type { SysError } from '../errors.js';
import { KIND, SOCK, cString, type SockRecord } from '../linux/bpfrecord.js';
import { bpfUnavailable, loadObject, loadProcessWalkInBackground, walkHz, walkProcess } from '../linux/bpfwalk.js';
import {
  AF_INET, IPPROTO_TCP, SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK, SOCK_RCVBUF_LOCK, SOCK_SNDBUF_LOCK, TCP_CLOSE, TCP_LISTEN,
  TCP_NAGLE_OFF, stateName,
} from '../linux/inet.js';
import { TIMER_KINDS } from '../linux/inetdiag.js';
import { jiffiesToMsecs, jiffiesToUsecs, lingerSeconds, MAX_SCHEDULE_TIMEOUT, timeoutMs } from '../linux/jiffies.js';
import { deferAcceptSeconds, diagFromTcpInfo } from '../linux/knetstat.js';
import type { BpfObject } from '../linux/libbpf.js';
import { O_NONBLOCK } from '../linux/proc.js';
import { ipv4, ipv6, optionsFor } from '../linux/sockopt.js';
import type { Endpoint, OptionReading, OptionValue, Protocol, RawSocket, TcpInfo } from '../model/types.js';
import { leanYoungGeneration } from './heap.js';
import type { Source, SourceContext, SourceResult, Target } from './types.js';

// ---- records -> the model ---------------------------------------------------

/** Shared readings by explicit (absent, true, false), option name and value. */
const readings: Map<string, Map<number | string, OptionReading>>[] = [new Map(), new Map(), new Map()];
/** Equal readings are one shared, read-only object (a 50,000-socket capture holds ~30 per socket). */
function r(name: string, value: OptionValue | null, explicit?: boolean, note?: string): OptionReading {
  if (note !== undefined || value === null || typeof value === 'object') {
    const o: OptionReading = explicit === undefined ? { value, source: 'bpf' } : { value, source: 'bpf', explicit };
    if (note) o.note = note;
    return o;
  }
  const byName = readings[explicit === undefined ? 0 : explicit ? 1 : 2]!;
  let m = byName.get(name);
  if (!m) byName.set(name, (m = new Map()));
  let o = m.get(value);
  if (!o) {
    o = explicit === undefined ? { value, source: 'bpf' } : { value, source: 'bpf', explicit };
    if (m.size < 256) m.set(value, o);
  }
  return o;
}

const NOT_IN_FORCE = 'not set, or set to 0 (the same state)';

function protocolOf(rec: SockRecord): Protocol {
  const v4 = rec.family === AF_INET;
  return rec.protocol === IPPROTO_TCP ? (v4 ? 'tcp' : 'tcp6') : (v4 ? 'udp' : 'udp6');
}

function endpoint(b: Buffer, port: number, v4: boolean): Endpoint {
  return { address: v4 ? ipv4(b, 0) : ipv6(b, 0), port };
}

/** TCP_QUICKACK: !inet_csk_in_pingpong_mode(). Without the pingpong sysctl the threshold is 1 or 3 (6.1 backports). */
function quickack(rec: SockRecord): OptionReading {
  if (rec.has_pingpong_thresh) return r('TCP_QUICKACK', rec.pingpong < rec.pingpong_thresh ? 1 : 0);
  if (rec.pingpong === 0) return r('TCP_QUICKACK', 1);
  if (rec.pingpong >= 3) return r('TCP_QUICKACK', 0);
  return r('TCP_QUICKACK', null, undefined, `icsk_ack.pingpong is ${rec.pingpong} and this kernel's pingpong threshold (1 or 3) is not in its BTF`);
}

/** Every option of the catalog for this socket, as getsockopt would return it. */
function options(rec: SockRecord, protocol: Protocol, state: string, hz: number): Record<string, OptionReading> {
  const o: Record<string, OptionReading> = {};
  const tcp = rec.protocol === IPPROTO_TCP;
  const v6 = rec.family !== AF_INET;
  const lingerSet = rec.linger || rec.lingertime !== 0n;
  for (const opt of optionsFor(protocol)) {
    if (opt.states && !opt.states.includes(state)) continue;
    switch (opt.name) {
      case 'SO_REUSEADDR': o[opt.name] = r(opt.name, rec.reuse); break;
      case 'SO_REUSEPORT': o[opt.name] = r(opt.name, rec.reuseport ? 1 : 0); break;
      case 'SO_KEEPALIVE': o[opt.name] = r(opt.name, rec.keepopen ? 1 : 0); break;
      case 'SO_BROADCAST': o[opt.name] = r(opt.name, rec.broadcast ? 1 : 0); break;
      case 'SO_OOBINLINE': o[opt.name] = r(opt.name, rec.urginline ? 1 : 0); break;
      // The lock flag is set by every setsockopt(SO_RCVBUF/SO_SNDBUF) and by nothing else.
      case 'SO_RCVBUF': o[opt.name] = r(opt.name, rec.rcvbuf, (rec.userlocks & SOCK_RCVBUF_LOCK) !== 0); break;
      case 'SO_SNDBUF': o[opt.name] = r(opt.name, rec.sndbuf, (rec.userlocks & SOCK_SNDBUF_LOCK) !== 0); break;
      case 'SO_LINGER':
        // Switching linger off keeps the time: a non-zero time also proves an earlier call.
        o[opt.name] = r(opt.name, { enabled: rec.linger, seconds: lingerSeconds(rec.lingertime, hz) }, lingerSet ? true : undefined);
        break;
      case 'SO_RCVTIMEO': o[opt.name] = r(opt.name, timeoutMs(rec.rcvtimeo, hz), rec.rcvtimeo !== MAX_SCHEDULE_TIMEOUT ? true : undefined); break;
      case 'SO_SNDTIMEO': o[opt.name] = r(opt.name, timeoutMs(rec.sndtimeo, hz), rec.sndtimeo !== MAX_SCHEDULE_TIMEOUT ? true : undefined); break;
      case 'SO_PRIORITY': o[opt.name] = r(opt.name, rec.priority); break;
      case 'SO_MARK': o[opt.name] = r(opt.name, rec.mark); break;
      case 'IP_TOS': o[opt.name] = r(opt.name, rec.tos); break;
      case 'IP_MULTICAST_TTL': o[opt.name] = r(opt.name, rec.mc_ttl); break;
      case 'IP_MULTICAST_LOOP': o[opt.name] = r(opt.name, rec.mc_loop ? 1 : 0); break;
      case 'IP_MULTICAST_ALL': o[opt.name] = r(opt.name, rec.mc_all ? 1 : 0); break;
      case 'IPV6_V6ONLY': if (v6) o[opt.name] = r(opt.name, rec.v6only ? 1 : 0); break;
      case 'IPV6_TCLASS': if (v6) o[opt.name] = rec.has_pinet6 ? r(opt.name, rec.tclass) : r(opt.name, null, undefined, 'no IPv6 state on this socket'); break;
      case 'IPV6_MULTICAST_ALL': if (v6) o[opt.name] = rec.has_pinet6 ? r(opt.name, rec.mc6_all ? 1 : 0) : r(opt.name, null, undefined, 'no IPv6 state on this socket'); break;
      case 'IPV6_MULTICAST_LOOP': if (v6) o[opt.name] = rec.has_pinet6 ? r(opt.name, rec.mc6_loop ? 1 : 0) : r(opt.name, null, undefined, 'no IPv6 state on this socket'); break;
      case 'IPV6_MULTICAST_HOPS':
        // setsockopt stores -1 as the default (1): a negative value never reaches the field.
        if (v6) o[opt.name] = rec.has_pinet6 && rec.mcast_hops >= 0 ? r(opt.name, rec.mcast_hops) : r(opt.name, null, undefined, 'no stored multicast hop limit');
        break;
      default:
        if (tcp) tcpOption(o, opt.name, rec, hz);
    }
  }
  if (tcp && rec.state === TCP_LISTEN) o.backlog = r('backlog', rec.max_ack_backlog, undefined, 'max accept queue (sk_max_ack_backlog)');
  // ~30 keyed stores leave V8 a dictionary-mode object; its copy has fast properties (as sockopt.ts does).
  return { ...o };
}

function tcpOption(o: Record<string, OptionReading>, name: string, rec: SockRecord, hz: number): void {
  switch (name) {
    case 'TCP_NODELAY': o[name] = r(name, (rec.nonagle & TCP_NAGLE_OFF) !== 0 ? 1 : 0); break;
    // Stored 0 means "follows the sysctl"; setsockopt refuses 0, so 0 proves no call.
    case 'TCP_KEEPIDLE': o[name] = r(name, Math.floor((rec.keepalive_time || rec.sysctl_keepalive_time) / hz), rec.keepalive_time !== 0); break;
    case 'TCP_KEEPINTVL': o[name] = r(name, Math.floor((rec.keepalive_intvl || rec.sysctl_keepalive_intvl) / hz), rec.keepalive_intvl !== 0); break;
    case 'TCP_KEEPCNT': o[name] = r(name, rec.keepalive_probes || rec.sysctl_keepalive_probes, rec.keepalive_probes !== 0); break;
    case 'TCP_USER_TIMEOUT': o[name] = rec.user_timeout ? r(name, rec.user_timeout, true) : r(name, 0, undefined, NOT_IN_FORCE); break;
    case 'TCP_DEFER_ACCEPT': o[name] = r(name, deferAcceptSeconds(rec.defer_accept), rec.defer_accept ? true : undefined); break;
    case 'TCP_FASTOPEN': o[name] = r(name, rec.fastopen_max_qlen); break;
    case 'TCP_QUICKACK': o[name] = quickack(rec); break;
    case 'TCP_NOTSENT_LOWAT': o[name] = r(name, rec.notsent_lowat, rec.notsent_lowat ? true : undefined); break;
    case 'TCP_CONGESTION':
      o[name] = r(name, cString(rec.ca_name), rec.has_ca_setsockopt ? rec.ca_setsockopt : undefined);
      break;
    case 'TCP_MAXSEG': {
      // do_tcp_getsockopt(): the user's MSS before the connection has one, mss_clamp in repair mode.
      let v = rec.mss_cache;
      if (rec.user_mss && (rec.state === TCP_CLOSE || rec.state === TCP_LISTEN)) v = rec.user_mss;
      if (rec.repair) v = rec.mss_clamp;
      o[name] = rec.user_mss ? r(name, v, true, `user MSS ${rec.user_mss} (rx_opt.user_mss)`) : r(name, v);
      break;
    }
  }
}

/** What tcp_get_info() reports (times: rto/ato in us, last* in ms, rtt in us). Written out: no spreads on this path. */
function tcpInfo(rec: SockRecord, hz: number): TcpInfo {
  if (rec.state === TCP_LISTEN) {
    // tcp_get_info() stops here for listeners: unacked/sacked carry the accept queue and its limit.
    return {
      state: rec.state, retransmits: 0, probes: 0, backoff: 0, rto: 0, ato: 0, sndMss: 0, rcvMss: 0,
      unacked: rec.ack_backlog, sacked: rec.max_ack_backlog, lost: 0, retrans: 0, lastDataSent: 0, lastDataRecv: 0,
      lastAckRecv: 0, pmtu: 0, rtt: 0, rttvar: 0, sndCwnd: rec.snd_cwnd, advmss: 0, totalRetrans: 0, sndWnd: 0, rcvWnd: 0,
      source: 'bpf',
    };
  }
  return {
    state: rec.state, retransmits: rec.retransmits, probes: rec.probes_out, backoff: rec.backoff,
    rto: jiffiesToUsecs(rec.rto, hz), ato: jiffiesToUsecs(rec.ato, hz), sndMss: rec.mss_cache, rcvMss: rec.rcv_mss,
    unacked: rec.packets_out, sacked: rec.sacked_out, lost: rec.lost_out, retrans: rec.retrans_out,
    lastDataSent: jiffiesToMsecs(rec.since_data_sent, hz), lastDataRecv: jiffiesToMsecs(rec.since_data_recv, hz),
    lastAckRecv: jiffiesToMsecs(rec.since_ack, hz), pmtu: rec.pmtu, rtt: rec.srtt_us >>> 3, rttvar: rec.mdev_us >>> 2,
    sndCwnd: rec.snd_cwnd, advmss: rec.advmss, totalRetrans: rec.total_retrans, sndWnd: rec.snd_wnd, rcvWnd: rec.rcv_wnd,
    // As tcp_get_info() reports them; bytes_sent and bytes_retrans need Linux >= 4.19.
    bytesAcked: rec.bytes_acked, bytesReceived: rec.bytes_received,
    bytesSent: rec.has_bytes_sent ? rec.bytes_sent : undefined, bytesRetrans: rec.has_bytes_sent ? rec.bytes_retrans : undefined,
    notsentBytes: rec.notsent_bytes,
    source: 'bpf',
  };
}

/**
 * The record bytes every option value is computed from (struct sock's fields
 * through TCP's pingpong threshold, knetstat_record.h's order), with the
 * protocol and state. Sockets of one JVM mostly share their options: equal
 * bytes give one options object, shared and read-only (a source merging into a
 * socket's options makes a new object, as BpfSource.collect does).
 */
const OPTION_BYTES: [number, number] = [SOCK.fields.rcvbuf[0], SOCK.fields.pingpong_thresh[0] + 1];
const sharedOptions = new Map<string, Record<string, OptionReading>>();

function optionsOf(rec: SockRecord, protocol: Protocol, state: string, hz: number): Record<string, OptionReading> {
  const key = `${protocol}\u0000${state}\u0000${hz}\u0000${rec.buf.toString('latin1', rec.off + OPTION_BYTES[0], rec.off + OPTION_BYTES[1])}`;
  let o = sharedOptions.get(key);
  if (!o) {
    o = options(rec, protocol, state, hz);
    if (sharedOptions.size < 4096) sharedOptions.set(key, o);
  }
  return o;
}

/** userLocks and bindLocks for each of sk_userlocks' 16 values: shared, read-only. */
const USER_LOCKS = Array.from({ length: 16 }, (_, l) => ({ rcvbuf: (l & SOCK_RCVBUF_LOCK) !== 0, sndbuf: (l & SOCK_SNDBUF_LOCK) !== 0, source: 'bpf' as const }));
const BIND_LOCKS = Array.from({ length: 16 }, (_, l) => ({ addr: (l & SOCK_BINDADDR_LOCK) !== 0, port: (l & SOCK_BINDPORT_LOCK) !== 0, source: 'bpf' as const }));

/** One record as the model's socket; fd from the caller (the target's fd, or a holder's). */
export function socketFromRecord(rec: SockRecord, hz: number, fd = rec.fd): RawSocket {
  const protocol = protocolOf(rec);
  const v4 = rec.family === AF_INET;
  const tcp = rec.protocol === IPPROTO_TCP;
  // /proc/net/tcp prints a request socket as SYN_RECV.
  const state = rec.kind === KIND.REQUEST ? 'SYN_RECV' : stateName(protocol, rec.state);
  const sock: RawSocket = {
    protocol, fd, inode: rec.inode, local: endpoint(rec.saddr, rec.sport, v4), remote: endpoint(rec.daddr, rec.dport, v4),
    state, recvQ: tcp ? rec.rx_queue : Math.max(rec.rx_queue | 0, 0), sendQ: tcp ? Math.max(rec.tx_queue | 0, 0) : rec.tx_queue,
    options: {}, diag: '', sources: ['bpf'],
  };
  if (rec.fd < 0) sock.uid = rec.uid;
  if (rec.kind !== KIND.SOCK) return sock; // TIME_WAIT and requests: no options
  sock.options = optionsOf(rec, protocol, state, hz);
  sock.userLocks = USER_LOCKS[rec.userlocks & 15]!;
  sock.bindLocks = BIND_LOCKS[rec.userlocks & 15]!;
  if (tcp) {
    sock.tcpInfo = tcpInfo(rec, hz);
    sock.diag = diagFromTcpInfo(state, sock.tcpInfo);
    if (rec.timer) {
      sock.timer = {
        kind: TIMER_KINDS[rec.timer] ?? `timer ${rec.timer}`, expiresMs: jiffiesToMsecs(Math.max(rec.timer_expires, 0), hz),
        retrans: rec.timer_retrans, source: 'bpf',
      };
    }
  }
  if (rec.shutdown) sock.shutdown = { read: (rec.shutdown & 1) !== 0, write: (rec.shutdown & 2) !== 0, source: 'bpf' };
  return sock;
}

// ---- the Source -------------------------------------------------------------

/** The object preloadBpf() loaded, until a BpfSource takes it. */
let preloaded: BpfObject | undefined;

/**
 * Starts loading the process walk on a worker thread, for a capture that
 * will likely use this source: the capture's other first steps (the
 * process's /proc facts, the kernel defaults) run meanwhile. Resolves when
 * the load ended, either way; the next BpfSource.available() uses the
 * object, or loads as it would have (and says why it cannot).
 */
export async function preloadBpf(): Promise<void> {
  if (preloaded || bpfUnavailable()) return;
  preloaded = await loadProcessWalkInBackground();
}

/** Closes a preloaded object no source took (a capture that failed, or chose another source). */
export function dropPreloadedBpf(): void {
  preloaded?.close();
  preloaded = undefined;
}

export class BpfSource implements Source {
  readonly name = 'bpf' as const;
  /** Loaded by available() (the real test: the kernel accepts the program), used by collect(). */
  private obj?: BpfObject;

  available(_target: Target): { ok: true } | { ok: false; reason: string; errno?: string } {
    const why = bpfUnavailable();
    if (why) return { ok: false, reason: why };
    try {
      this.obj?.close();
      this.obj = preloaded ?? loadObject(['knetstat_task_file']);
      preloaded = undefined;
      return { ok: true };
    } catch (err) {
      const e = err as SysError;
      return { ok: false, reason: `the bpf source cannot load: ${e.message}`, errno: e.errno };
    }
  }

  /**
   * Every TCP/UDP socket the target holds at the moment of the walk, with the
   * fd it has there: the walk is the listing, so target.fds is never read
   * (listing 20,000 fds through /proc would cost more than the walk itself).
   */
  async collect(ctx: SourceContext): Promise<SourceResult> {
    const { target, sockets } = ctx;
    const obj = this.obj;
    this.obj = undefined;
    const walk = walkProcess(target.pid, obj);
    const hz = walkHz(walk, 'task_file iterator');
    leanYoungGeneration(walk.socks.length);
    for (const rec of walk.socks) {
      // A thread with an fd table of its own can show a socket twice: its first fd stands.
      if (rec.kind !== KIND.SOCK || sockets.get(rec.inode)?.sources.includes('bpf')) continue;
      const prev = sockets.get(rec.inode);
      const sock = socketFromRecord(rec, hz);
      if (target.jvm && rec.has_file_flags) sock.nonBlocking = { value: (rec.file_flags & O_NONBLOCK) !== 0, source: 'bpf' };
      if (prev) {
        sock.options = { ...prev.options, ...sock.options };
        sock.sources = [...new Set([...prev.sources, 'bpf' as const])];
      }
      sockets.set(rec.inode, sock);
    }
    ctx.progress?.(walk.socks.length, walk.socks.length);
    return { status: { name: this.name, used: true } };
  }
}
