// The sock_diag source: NETLINK_SOCK_DIAG inet_diag (what `ss` reads), through
// linux/diagsocket.ts. Named alone (--source sockdiag), one dump per
// family/protocol for the whole network namespace, joined to the target's fds
// by inode. After another source (auto), exact lookups, one per socket and
// batched, whose cost follows the target's sockets instead of the
// namespace's. Needs no rights over the target, only to be in (or able to
// enter) its network namespace; sees fewer options than pidfd (see
// diagrecord.ts). What it cannot see is left absent: never a guessed value.
import { FatalSysError, SysError, errnoName } from '../errors.js';
import {
  closeDiagSocket, dumpAllInetDiag, dumpEach, exchangeLookups, isRefusedDump, newNetlinkSocket, openDiagSocket,
  type DumpAllResult, type LookupRequest,
} from '../linux/diagsocket.js';
import { ERRNO, TCP_BOUND_INACTIVE, TCP_LISTEN, tcpf } from '../linux/inet.js';
import {
  DEFAULT_EXT, DIAG_KINDS, lookupSockId, protoName, type DiagFamily, type DiagProtocol, type DiagRecord,
} from '../linux/inetdiag.js';
import * as libc from '../linux/libc.js';
import type { RawSocket } from '../model/types.js';
import { mergeDiagRecord, rawSocketFromDiag } from './diagrecord.js';
import type { Source, SourceContext, SourceResult, Target } from './types.js';

const { ENOENT, EINVAL, EOPNOTSUPP } = ERRNO;
const TCPF_LISTEN = tcpf(TCP_LISTEN);
const TCPF_BOUND_INACTIVE = tcpf(TCP_BOUND_INACTIVE);

export interface EnrichResult {
  /** Sockets that got something from sock_diag. */
  enriched: number;
  /** Inodes asked for that sock_diag did not list (closed meanwhile, or another namespace). */
  notFound: number[];
  /** The records, for callers that want more than RawSocket holds (shutdown, skmem ...). */
  records: Map<number, DiagRecord>;
  warnings: string[];
}

/**
 * For the pidfd pipeline: adds to sockets already read what only sock_diag
 * has (listener backlog, timers, skmem buffers, tcp_info when missing, ...)
 * without overwriting a value another source read. One dump per kind.
 */
export function enrichWithSockdiag(pid: number, sockets: Map<number, RawSocket> | Iterable<RawSocket>): EnrichResult {
  const list = sockets instanceof Map ? [...sockets.values()] : [...sockets];
  const inodes = new Set(list.map((s) => s.inode).filter((i) => i !== 0));
  const res = dumpAllInetDiag({ pid, inodes });
  let enriched = 0;
  const notFound: number[] = [];
  for (const s of list) {
    const rec = res.records.get(s.inode);
    if (!rec) { notFound.push(s.inode); continue; }
    if (mergeDiagRecord(s, rec)) enriched++;
  }
  return { enriched, notFound, records: res.records, warnings: res.warnings };
}

export interface LookupOptions {
  /** Lookups per sendto: an upper bound, lowered to what the receive buffer holds. Default 256. */
  chunk?: number;
}

interface Wanted {
  sock: RawSocket;
  family: DiagFamily;
  protocol: DiagProtocol;
}

/**
 * As enrichWithSockdiag, by exact lookups instead of dumps: one request per
 * socket (batched, `chunk` per sendto), so the work and the messages received
 * grow with the target's sockets, not with the host's. A reply is merged only
 * into the socket whose inode it carries (mergeDiagRecord: nothing another
 * source read is replaced). Sockets with inode 0 or fd -1 are skipped. In
 * notFound: sockets that closed meanwhile (ENOENT, or a TIME_WAIT now holds
 * the tuple), unbound ones (in no table sock_diag reads), and any the kernel
 * never answered for. Narrow dumps, filtered to one local port, find what a
 * lookup cannot: a bound-only TCP socket, a member of an SO_REUSEPORT group
 * the lookup's hash did not pick. A protocol whose exact lookups the kernel
 * refuses (EOPNOTSUPP/EINVAL) is dumped whole instead, with a warning.
 */
export function lookupSockdiag(pid: number, sockets: Map<number, RawSocket> | Iterable<RawSocket>, opts: LookupOptions = {}): EnrichResult {
  const list = sockets instanceof Map ? [...sockets.values()] : [...sockets];
  const wanted = new Map<number, Wanted>();
  const lookups: (LookupRequest & { w: Wanted })[] = [];
  const byPort: Wanted[] = [];
  for (const s of list) {
    if (s.inode === 0 || s.fd === -1 || wanted.has(s.inode)) continue;
    const w: Wanted = { sock: s, family: s.protocol.endsWith('6') ? 6 : 4, protocol: s.protocol.startsWith('tcp') ? 'tcp' : 'udp' };
    wanted.set(s.inode, w);
    if (s.local.port === 0) continue; // unbound: listed nowhere
    const id = w.protocol === 'tcp' && s.state === 'CLOSE' ? undefined : lookupSockId(s);
    if (id) lookups.push({ w, family: w.family, protocol: w.protocol, id });
    else byPort.push(w);
  }
  const records = new Map<number, DiagRecord>();
  const sock = openDiagSocket(pid);
  const warnings = [...sock.warnings];
  const kindKey = (w: Wanted) => protoName(w.family, w.protocol);
  /** A dump the kernel refuses is a warning; the other kinds go on. */
  const dump = (family: DiagFamily, protocol: DiagProtocol, o: Parameters<typeof dumpEach>[2], each: (r: DiagRecord) => void) => {
    try {
      dumpEach(family, protocol, { ...o, socket: sock }, each);
    } catch (err) {
      if (isRefusedDump(err)) warnings.push(err.message);
      else throw err;
    }
  };
  try {
    const replies = exchangeLookups(sock.fd, lookups, opts.chunk ?? 256, DEFAULT_EXT, warnings);
    const refused = new Map<string, number>();
    const asked = new Map<string, number>(), absent = new Map<string, number>();
    const errors = new Map<number, number>();
    const mismatched: Wanted[] = [];
    lookups.forEach(({ w }, i) => {
      const k = kindKey(w);
      asked.set(k, (asked.get(k) ?? 0) + 1);
      const r = replies[i];
      if (!r) return;
      if ('errno' in r) {
        if (r.errno === ENOENT) absent.set(k, (absent.get(k) ?? 0) + 1);
        else if (r.errno === EOPNOTSUPP || r.errno === EINVAL) refused.set(k, r.errno);
        else errors.set(r.errno, (errors.get(r.errno) ?? 0) + 1);
        return;
      }
      const rec = r.rec;
      if (rec.inode === w.sock.inode) { records.set(rec.inode, rec); return; }
      // Another socket answered. Inode 0: a TIME_WAIT (or request) socket holds the tuple now, ours is gone.
      if (rec.inode === 0) return;
      // A socket of the target's own (a sibling in an SO_REUSEPORT group): the record is that one's.
      const other = wanted.get(rec.inode);
      if (other && other.protocol === w.protocol) records.set(rec.inode, rec);
      mismatched.push(w);
    });
    for (const [e, n] of errors) warnings.push(`sock_diag: ${n} lookup(s) refused: ${errnoName(e)}`);
    for (const w of mismatched) if (!records.has(w.sock.inode)) byPort.push(w);

    // Kinds whose exact lookups this kernel refuses: one whole dump each.
    for (const [k, e] of refused) {
      const [family, protocol] = DIAG_KINDS.find(([f, p]) => protoName(f, p) === k)!;
      const inodes = new Set([...wanted.values()].filter((w) => kindKey(w) === k && !records.has(w.sock.inode)).map((w) => w.sock.inode));
      warnings.push(`sock_diag: exact ${k} lookups refused (${errnoName(e)}): dumped every ${k} socket of the namespace instead`);
      dump(family, protocol, { inodes }, (rec) => { records.set(rec.inode, rec); });
    }

    // Every lookup of a kind said ENOENT: either all those sockets closed, or the
    // kernel has no handler for the kind (the answer is the same). A dump that
    // matches nothing (local port 0) tells which, without listing any socket.
    for (const [k, n] of absent) {
      if (n !== asked.get(k) || refused.has(k)) continue;
      const [family, protocol] = DIAG_KINDS.find(([f, p]) => protoName(f, p) === k)!;
      dump(family, protocol, { port: 0, inodes: new Set() }, () => {});
    }

    // Dumps narrowed to one local port (and the states sought): bound-only TCP
    // sockets, SO_REUSEPORT members the lookup hash did not select.
    const groups = new Map<string, { family: DiagFamily; protocol: DiagProtocol; port: number; states: number; inodes: Set<number> }>();
    for (const w of byPort) {
      if (refused.has(kindKey(w))) continue;
      const states = w.protocol === 'udp' ? 0xffffffff
        : w.sock.state === 'LISTEN' ? TCPF_LISTEN
        : w.sock.state === 'CLOSE' ? TCPF_BOUND_INACTIVE
        : 0xffffffff & ~(TCPF_LISTEN | TCPF_BOUND_INACTIVE);
      const key = `${kindKey(w)}/${w.sock.local.port}/${states}`;
      const g = groups.get(key) ?? { family: w.family, protocol: w.protocol, port: w.sock.local.port, states, inodes: new Set<number>() };
      g.inodes.add(w.sock.inode);
      groups.set(key, g);
    }
    for (const g of groups.values()) {
      dump(g.family, g.protocol, { port: g.port, states: g.states, inodes: g.inodes }, (rec) => { records.set(rec.inode, rec); });
    }
  } finally {
    closeDiagSocket(sock);
  }
  let enriched = 0;
  const notFound: number[] = [];
  for (const w of wanted.values()) {
    const rec = records.get(w.sock.inode);
    if (!rec) { notFound.push(w.sock.inode); continue; }
    if (mergeDiagRecord(w.sock, rec)) enriched++;
  }
  return { enriched, notFound, records, warnings };
}

/** sock_diag failed in a way that leaves the tool sound (no socket, refused): the source reports it and is not used. */
function refusal(err: unknown): err is SysError {
  return err instanceof SysError && !(err instanceof FatalSysError);
}

export class SockdiagSource implements Source {
  readonly name = 'sockdiag' as const;

  available(_target: Target): { ok: true } | { ok: false; reason: string; errno?: string } {
    try {
      libc.close(newNetlinkSocket());
      return { ok: true };
    } catch (err) {
      if (!refusal(err)) throw err;
      return { ok: false, reason: `NETLINK_SOCK_DIAG is not available here (${err.errno})`, errno: err.errno };
    }
  }

  async collect(ctx: SourceContext): Promise<SourceResult> {
    const { target, sockets } = ctx;
    const wanted = new Set(target.fds.values());
    const fdOf = new Map<number, number>();
    for (const [fd, inode] of target.fds) fdOf.set(inode, fd);
    let res: DumpAllResult;
    try {
      res = dumpAllInetDiag({ pid: target.pid, inodes: wanted });
    } catch (err) {
      if (refusal(err)) return { status: { name: this.name, used: false, reason: err.message, errno: err.errno } };
      throw err;
    }
    const warnings = [...res.warnings];
    for (const [inode, rec] of res.records) {
      const prev = sockets.get(inode);
      if (prev) mergeDiagRecord(prev, rec);
      else sockets.set(inode, rawSocketFromDiag(rec, fdOf.get(inode) ?? -1));
    }
    // A TCP/UDP socket procfs listed but the dump did not: closed in between.
    // In a namespace we could not enter, absence means nothing.
    const vanished: number[] = [];
    if (res.netns !== 'own') {
      for (const s of sockets.values()) if (wanted.has(s.inode) && !res.records.has(s.inode)) vanished.push(s.inode);
    }
    ctx.progress?.(target.fds.size, target.fds.size);
    return { status: { name: this.name, used: true }, vanished, warnings };
  }
}

/** Sockets per slice of the enrichment: each slice's replies are merged and dropped before the next. */
const ENRICH_SLICE = 2048;

/**
 * sock_diag after another source (auto mode): adds what only it has (timers,
 * shutdown state, and whatever the primary source could not read) by exact
 * lookups, so the cost follows the target's sockets, not the host's; in
 * slices, so the working set stays bounded on 50,000-socket JVMs.
 */
export class SockdiagEnricher implements Source {
  readonly name = 'sockdiag' as const;

  available(target: Target) {
    return new SockdiagSource().available(target);
  }

  async collect(ctx: SourceContext): Promise<SourceResult> {
    try {
      const all = [...ctx.sockets.values()];
      const warnings = new Set<string>();
      for (let i = 0; i < all.length; i += ENRICH_SLICE) {
        for (const w of lookupSockdiag(ctx.target.pid, all.slice(i, i + ENRICH_SLICE)).warnings) warnings.add(w);
      }
      return { status: { name: this.name, used: true, role: 'enrich' }, warnings: [...warnings] };
    } catch (err) {
      if (refusal(err)) return { status: { name: this.name, used: false, role: 'enrich', reason: err.message, errno: err.errno } };
      throw err;
    }
  }
}
