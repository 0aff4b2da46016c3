// Which role a socket plays, how sure that is, and for an accepted socket the
// listener it came from. The kernel's own state decides where it can: LISTEN,
// a CLOSE socket with no peer (never connected), which end sent the SYN (its
// byte accounting, linux/tcpinfo.ts sentSyn), the bind-port lock accept()
// never carries (bpf). Otherwise the likely story: a listener on the port, the
// peer in the same process, ip_local_port_range (where connect() picks ports).
import type { OptionValue, RawSocket, Role } from '../model/types.js';
import { endpointKey } from '../model/addr.js';
import { sentSyn } from '../linux/tcpinfo.js';
import type { Ctx, RoleInfo } from './context.js';
import { same } from './defaults.js';


const UDP: RoleInfo = { role: 'udp', confidence: 'certain', note: 'a UDP socket' };
const LISTENING: RoleInfo = { role: 'listening', confidence: 'certain', note: 'state LISTEN' };
const UNCONNECTED: RoleInfo = { role: 'unconnected', confidence: 'certain', note: 'state CLOSE and no peer: never connected (opened, perhaps bound, or its connect failed)' };
const BY_SYN = 'the kernel\'s byte accounting says this end sent the SYN (tcpi_bytes_acked counts it): made by connect()';
const BY_BINDPORT = 'bound to its port by bind() (sk_userlocks BINDPORT, which accept() never leaves on a socket): made by connect()';
const BY_ACCEPT = 'the kernel\'s byte accounting says the peer sent the SYN (tcpi_bytes_acked does not count one): made by accept()';
const CONNECTED_LIKELY: RoleInfo = { role: 'connected', confidence: 'likely', note: 'no listener on its local port, and a port connect() picks (in net.ipv4.ip_local_port_range)' };
const CONNECTED_PEER: RoleInfo = { role: 'connected', confidence: 'likely', note: 'its peer in this process is on a listener\'s port: this end is the client' };

const NONE: readonly RawSocket[] = [];

/** Listeners that could have accepted s: same protocol and port, its address or a wildcard (the exact address first, as the kernel's lookup scores them). */
function listenersFor(s: RawSocket, ctx: Ctx): readonly RawSocket[] {
  const all = ctx.listenersByPort.get(s.local.port);
  if (!all) return NONE;
  // One listener on the port (the usual case): the list itself, or none, without building two.
  if (all.length === 1) {
    const l = all[0]!;
    const a = l.local.address;
    return l.protocol === s.protocol && (a === s.local.address || a === '0.0.0.0' || a === '::') ? all : NONE;
  }
  const exact: RawSocket[] = [], wild: RawSocket[] = [];
  for (const l of all) {
    if (l.protocol !== s.protocol) continue;
    if (l.local.address === s.local.address) exact.push(l);
    else if (l.local.address === '0.0.0.0' || l.local.address === '::') wild.push(l);
  }
  return exact.length ? exact : wild;
}

/** Options an accepted socket copies from its listener whose values tell two listeners apart. */
function score(s: RawSocket, l: RawSocket, inherited: Set<string>): number {
  let n = 0;
  for (const o of inherited) {
    const a = s.options[o]?.value, b = l.options[o]?.value;
    if (a !== undefined && a !== null && b !== undefined && b !== null && same(a as OptionValue, b as OptionValue)) n++;
  }
  // The buffer lock flags are copied with the socket too (sk_clone_lock): where a source read them, they count.
  const u = s.userLocks, v = l.userLocks;
  if (u && v) n += (u.rcvbuf === v.rcvbuf ? 1 : 0) + (u.sndbuf === v.sndbuf ? 1 : 0);
  return n;
}

/** The listener (or listeners, all equally good) whose options explain an accepted socket. */
function attribute(s: RawSocket, ls: readonly RawSocket[], ctx: Ctx): { listener: RawSocket; candidates?: RawSocket[] } {
  if (ls.length === 1) return { listener: ls[0]! };
  let best = -1;
  let top: RawSocket[] = [];
  for (const l of ls) {
    const n = score(s, l, ctx.inherited);
    if (n > best) { best = n; top = [l]; } else if (n === best) top.push(l);
  }
  // Equal scores: the same values on every inherited option that differs between them, or none differs.
  return top.length > 1 ? { listener: top[0]!, candidates: top } : { listener: top[0]! };
}

/** An accepted socket's role with its listener (a literal, not a spread: one shape, no runtime copy). */
function accepted(confidence: RoleInfo['confidence'], note: string, a: { listener: RawSocket; candidates?: RawSocket[] }): RoleInfo {
  return a.candidates ? { role: 'accepted', confidence, note, listener: a.listener, candidates: a.candidates } : { role: 'accepted', confidence, note, listener: a.listener };
}

function inPortRange(port: number, ctx: Ctx): boolean | undefined {
  const r = ctx.portRange;
  return r ? port >= r[0] && port <= r[1] : undefined;
}

/**
 * The role of s. Not cached: analysis asks once per socket, and again only for listeners
 * (for the sockets they accepted), whose role is a constant.
 */
export function roleOf(s: RawSocket, ctx: Ctx): RoleInfo {
  if (s.protocol.startsWith('udp')) return UDP;
  if (s.state === 'LISTEN') return LISTENING;
  if (s.state === 'CLOSE' && s.remote.port === 0) return UNCONNECTED;
  const ls = listenersFor(s, ctx);
  const syn = sentSyn(s.tcpInfo, s.sendQ, s.state);
  if (syn === true || s.bindLocks?.port) {
    const note = syn === true ? BY_SYN : BY_BINDPORT;
    return { role: 'connected', confidence: 'certain', note: ls.length ? `${note}; bound (SO_REUSEPORT) to the port of listener fd ${ls[0]!.fd}, not accepted by it` : note };
  }
  if (syn === false) {
    if (!ls.length) return { role: 'accepted', confidence: 'certain', note: `${BY_ACCEPT}; no listener on its port now: it was closed after the accept`, listenerGone: true };
    const a = attribute(s, ls, ctx);
    const why = unexplained(s, a.listener, ctx);
    if (why) return { role: 'accepted', confidence: 'certain', note: `${BY_ACCEPT}; ${why}`, listenerGone: true };
    return accepted('certain', attributionNote(BY_ACCEPT, a, ls.length), a);
  }
  // No accounting (an older kernel, a source without tcp_info): the likely story.
  if (ls.length) {
    const a = attribute(s, ls, ctx);
    const why = unexplained(s, a.listener, ctx);
    if (why) return { role: 'accepted', confidence: 'likely', note: `a listener on its local port; ${why}`, listenerGone: true };
    return accepted('likely', attributionNote('a listener on its local port', a, ls.length), a);
  }
  const peer = ctx.peerOf(s);
  if (peer && peer.state !== 'LISTEN' && listenersFor(peer, ctx).length) return CONNECTED_PEER;
  if (inPortRange(s.local.port, ctx) === false) {
    return { role: 'accepted', confidence: 'uncertain', note: 'no listener on its port now, and a port outside net.ipv4.ip_local_port_range, where connect() never picks one: accepted by a fixed-port listener since closed, or a client bound to a fixed port', listenerGone: true };
  }
  return CONNECTED_LIKELY;
}

/**
 * Why the best listener of a SO_REUSEPORT group cannot have accepted s as it is, or undefined:
 * SO_REUSEADDR, or a receive buffer the listener does not explain (one the listener sized, so
 * copied as is and never autotuned on the clone; a lock the listener lacks; a size below the
 * listener's), differs. Another listener of the group, closed since, may have
 * accepted it, or the code changed the option after accept: the kernel keeps no record of which.
 */
function unexplained(s: RawSocket, l: RawSocket, ctx: Ctx): string | undefined {
  if (l.options.SO_REUSEPORT?.value !== 1) return undefined;
  const diff: string[] = [];
  const ra = s.options.SO_REUSEADDR?.value, rl = l.options.SO_REUSEADDR?.value;
  if (ra !== undefined && ra !== null && rl !== undefined && rl !== null && ra !== rl) diff.push('SO_REUSEADDR');
  const ba = s.options.SO_RCVBUF?.value, bl = l.options.SO_RCVBUF?.value;
  const fresh = ctx.capture.host.kernelDefaults?.[l.protocol]?.SO_RCVBUF;
  const sized = l.userLocks ? l.userLocks.rcvbuf : fresh !== undefined && bl !== fresh;
  if (typeof ba === 'number' && typeof bl === 'number' && ba !== bl) {
    const lockA = s.userLocks?.rcvbuf, lockL = l.userLocks?.rcvbuf;
    // Copied from the listener at accept: a size the listener set; a lock the listener has not;
    // or (no lock flags read) less than the listener's, which receive autotuning never shrinks to.
    if (sized || (lockA === true && lockL === false) || (lockA === undefined && ba < bl)) diff.push('SO_RCVBUF');
  }
  if (!diff.length) return undefined;
  return `listener fd ${l.fd} shares its port (SO_REUSEPORT) but does not explain its ${diff.join(' and ')}: accepted by another listener of the group closed since, or by fd ${l.fd} and changed after accept; the kernel keeps no record of which`;
}

function attributionNote(why: string, a: { listener: RawSocket; candidates?: RawSocket[] }, among: number): string {
  if (!a.candidates) return among > 1 ? `${why}; of the ${among} listeners sharing the port (SO_REUSEPORT), fd ${a.listener.fd}'s options explain it` : why;
  return `${why}; listeners fd ${a.candidates.map((l) => l.fd).join(', ')} share the port (SO_REUSEPORT) and explain it equally: the kernel keeps no record of which one accepted it`;
}
