// Numbers of the kernel's socket API (include/uapi/linux/socket.h, in.h,
// tcp.h, asm-generic/socket.h, sockios.h) and TCP's states: number, the name
// ss and the model use, and the knetstat module's four-letter code. errno
// numbers are Node's own table (os.constants.errno); their names come from
// errnoName() in errors.ts (util.getSystemErrorMap). No I/O here.
import { constants } from 'node:os';
import type { Protocol } from '../model/types.js';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const SOL_SOCKET = 1;
export const SO_TYPE = 3;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_PROTOCOL = 38;
export const SO_DOMAIN = 39;
export const SO_MEMINFO = 55;

/** sk_userlocks bits (include/net/sock.h): set by setsockopt(SO_SNDBUF/SO_RCVBUF) and by bind() naming an address/port. */
export const SOCK_SNDBUF_LOCK = 1;
export const SOCK_RCVBUF_LOCK = 2;
export const SOCK_BINDADDR_LOCK = 4;
export const SOCK_BINDPORT_LOCK = 8;

/** tcp_sock.nonagle's bit for TCP_NODELAY (include/net/tcp.h). */
export const TCP_NAGLE_OFF = 1;

/** getsockopt(IPPROTO_TCP, TCP_INFO): struct tcp_info (linux/tcpinfo.ts). */
export const TCP_INFO = 11;

/** ioctls: unread bytes (FIONREAD) and unsent bytes of a socket. */
export const SIOCINQ = 0x541b;
export const SIOCOUTQ = 0x5411;

/** errno numbers, as this platform defines them (Node's table: no copy of ours). */
export const ERRNO = constants.errno;

/** enum of include/net/tcp_states.h. */
export const TCP_ESTABLISHED = 1;
export const TCP_SYN_SENT = 2;
export const TCP_SYN_RECV = 3;
export const TCP_FIN_WAIT1 = 4;
export const TCP_FIN_WAIT2 = 5;
export const TCP_TIME_WAIT = 6;
export const TCP_CLOSE = 7;
export const TCP_CLOSE_WAIT = 8;
export const TCP_LAST_ACK = 9;
export const TCP_LISTEN = 10;
export const TCP_CLOSING = 11;
/** A request socket (sock_diag, BPF); /proc/net/tcp prints it as SYN_RECV. */
export const TCP_NEW_SYN_RECV = 12;
/** Bound, neither listening nor connected (Linux >= 6.5, dumps only): reported as CLOSE. */
export const TCP_BOUND_INACTIVE = 13;

/** A states bitmask as inet_diag requests take it (TCPF_*: 1 << state). */
export const tcpf = (state: number): number => 1 << state;

/**
 * Per state number: the name (as ss and netstat spell it, and as RawSocket.state
 * holds it) and native/knetstat.c's knetstat_state_names code.
 */
const TCP_STATES: readonly (readonly [name: string, code: string] | undefined)[] = [
  undefined,
  ['ESTABLISHED', 'ESTB'], ['SYN_SENT', 'SYNS'], ['SYN_RECV', 'SYNR'], ['FIN_WAIT1', 'FNW1'], ['FIN_WAIT2', 'FNW2'],
  ['TIME_WAIT', 'TIMW'], ['CLOSE', 'CLSD'], ['CLOSE_WAIT', 'CLSW'], ['LAST_ACK', 'LACK'], ['LISTEN', 'LSTN'],
  ['CLOSING', 'CLSG'], ['SYN_RECV', 'SYNR'],
];

/** The model's name of a kernel state number; UDP: 1 is a connected socket, anything else unconnected. */
export function stateName(protocol: Protocol, st: number): string {
  if (protocol.startsWith('udp')) return st === TCP_ESTABLISHED ? 'ESTABLISHED' : 'UNCONN';
  return TCP_STATES[st]?.[0] ?? `STATE_${st}`;
}

const CODE_OF = new Map<string, string>();
const NAME_OF_CODE = new Map<string, string>([['NONE', 'UNKNOWN']]);
for (const s of TCP_STATES) {
  if (!s) continue;
  CODE_OF.set(s[0], s[1]);
  NAME_OF_CODE.set(s[1], s[0]);
}

/** The knetstat module's four-letter code for a state name ("NONE" for what it does not name). */
export function knetstatStateCode(name: string): string {
  return CODE_OF.get(name) ?? 'NONE';
}

/** The state name for a knetstat code ("NONE": UNKNOWN); undefined for a code the module never prints. */
export function stateOfKnetstatCode(code: string): string | undefined {
  return NAME_OF_CODE.get(code);
}

/**
 * States in which the kernel has taken a FIN from the peer: tcp_fin() then sets
 * the read side's shutdown bit itself, so that bit is no shutdownInput().
 */
export const FIN_RECEIVED_STATES: ReadonlySet<string> = new Set(['CLOSE_WAIT', 'LAST_ACK', 'CLOSING', 'TIME_WAIT']);

/**
 * Send-Q as /proc/net/tcp, netstat and ss print it: 0 for a TCP listener,
 * whose Recv-Q is its accept queue (the sources report the listener's backlog
 * where a connection has its unsent bytes), the unsent bytes otherwise.
 */
export function netstatSendQ(state: string, tx: number): number {
  // write_seq - snd_una is negative for a moment in connect() (write_seq is set first): 0, as the module prints it.
  return state === 'LISTEN' || (tx | 0) < 0 ? 0 : tx;
}
