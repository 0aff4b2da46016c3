// Which socket of the report the observed reads belong to. JFR's socket
// events name the peer (address, port), not the local end, so:
// - a peer that exactly one open TCP connection has (an accepted socket,
//   mostly: its peer port is its client's own, though two clients on one host
//   may share a local port number towards two servers of the JVM) is that
//   socket: 'socket';
// - a peer several connections share (a pool of 20 connections to
//   db:5432) cannot be split between them: every socket of the group gets
//   the group's figures, marked 'peer-group', with the distinct timeouts as
//   a set;
// - a peer no open socket has (closed before the capture) is listed apart.
// And what a read's timeout means: a stream read reports its SO_TIMEOUT (0 =
// none: the read may wait forever); a SocketChannel read cannot have one
// (JFR reports 0); on JDK 22+ the stack no longer shows which API read, so a
// 0 is read through the socket's blocking mode: non-blocking means
// selector-driven NIO, which never waits in read. Never a guessed value: a
// socket without reads says "no read observed".
import { ZERO_SOCKET_OR_CHANNEL, type Observed, type UnmatchedPeer } from '../model/observed.js';
import { normalizeAddress, readers as readersOf, type PeerActivity, type SocketActivity } from './activity.js';

export type { Observed, UnmatchedPeer } from '../model/observed.js';

export interface SocketRef {
  /** The caller's key for the socket (inode, fd ...). */
  key: string | number;
  protocol: string;
  state: string;
  local: { address: string; port: number };
  remote: { address: string; port: number };
  /** O_NONBLOCK on its fd (fdinfo), when known. */
  nonBlocking?: boolean;
}

export interface Attribution {
  sockets: Map<string | number, Observed>;
  /** Peers no open TCP connection of the report has (connections that ended before the capture). */
  unmatched: UnmatchedPeer[];
}

const MAX_READERS = 5;

function connected(s: SocketRef): boolean {
  return s.protocol.startsWith('tcp') && s.remote.port !== 0 && s.state !== 'LISTEN';
}

interface Timeouts {
  values: Set<number>;
  channel: number;
  selector: number;
  /** JDK 22+ reads reporting 0 on a blocking socket: a Socket without timeout, or a blocking SocketChannel. */
  ambiguousZero: number;
}

function timeouts(p: PeerActivity, nonBlocking: boolean | undefined): Timeouts {
  const t: Timeouts = { values: new Set(), channel: 0, selector: 0, ambiguousZero: 0 };
  for (const [api, byTimeout] of p.readKinds) {
    for (const [timeout, n] of byTimeout) {
      if (api === 'channel') {
        if (nonBlocking === true) t.selector += n;
        else t.channel += n;
      } else if (api === 'stream' || timeout > 0) t.values.add(timeout);
      else if (nonBlocking === true) t.selector += n;
      else {
        t.values.add(0);
        t.ambiguousZero += n;
      }
    }
  }
  return t;
}

function readers(p: PeerActivity): Observed['readers'] {
  return readersOf(p)
    .filter((r) => r.frame || r.library)
    .slice(0, MAX_READERS)
    .map((r) => ({ frame: r.frame ?? '(JDK frames only)', ...(r.library ? { library: r.library } : {}) }));
}

function notes(p: PeerActivity | undefined, t: Timeouts | undefined, group: number): string[] {
  const out: string[] = [];
  if (!p || p.reads === 0) out.push('no read observed');
  if (t?.channel) out.push(`${t.channel} read(s) through SocketChannel.read: a channel read has no timeout (setSoTimeout does not apply to it)`);
  if (t?.selector) out.push(`${t.selector} read(s) on a non-blocking socket (selector-driven NIO): they never wait, so no read timeout applies`);
  if (p?.timedOut.size) {
    const n = [...p.timedOut.values()].reduce((a, b) => a + b, 0);
    out.push(`${n} read(s) ended in SocketTimeoutException, after ${[...p.timedOut.keys()].sort((a, b) => a - b).join(', ')} ms`);
  }
  if (t?.ambiguousZero) out.push(`${t.ambiguousZero} read(s) ${ZERO_SOCKET_OR_CHANNEL}`);
  if (group > 1) out.push(`JFR names the peer, not the local port: the ${group} connections to this peer are observed as one group`);
  return out;
}

/**
 * Observed figures per socket of the report. Sockets that are not connected
 * TCP sockets get nothing (JFR records no datagram events; a listener does
 * not read).
 */
export function attribute(activity: SocketActivity, sockets: readonly SocketRef[], windowSeconds: number): Attribution {
  const byPeer = new Map<string, SocketRef[]>();
  for (const s of sockets) {
    if (!connected(s)) continue;
    const k = `${normalizeAddress(s.remote.address)}|${s.remote.port}`;
    const g = byPeer.get(k);
    if (g) g.push(s);
    else byPeer.set(k, [s]);
  }
  const out = new Map<string | number, Observed>();
  for (const [k, group] of byPeer) {
    const p = activity.peers.get(k);
    // One blocking mode for the group when its sockets agree; undefined otherwise.
    const modes = new Set(group.map((s) => s.nonBlocking));
    const nonBlocking = modes.size === 1 ? group[0]!.nonBlocking : undefined;
    const t = p ? timeouts(p, nonBlocking) : undefined;
    const n = notes(p, t, group.length);
    const o: Observed = {
      source: 'jfr',
      window: { seconds: windowSeconds },
      attribution: group.length > 1 ? 'peer-group' : 'socket',
      soTimeout: t ? [...t.values].sort((a, b) => a - b) : [],
      reads: p?.reads ?? 0,
      bytesRead: p?.bytesRead ?? 0,
      writes: p?.writes ?? 0,
      bytesWritten: p?.bytesWritten ?? 0,
      readers: p ? readers(p) : [],
      ...(group.length > 1 ? { group: { sockets: group.length } } : {}),
      ...(n.length ? { notes: n } : {}),
    };
    for (const s of group) out.set(s.key, o);
  }
  const unmatched: UnmatchedPeer[] = [];
  for (const [k, p] of activity.peers) {
    if (byPeer.has(k)) continue;
    const t = timeouts(p, undefined);
    unmatched.push({
      address: p.address, port: p.port, ...(p.hosts[0] ? { host: p.hosts[0] } : {}),
      reads: p.reads, bytesRead: p.bytesRead, writes: p.writes, bytesWritten: p.bytesWritten,
      soTimeout: [...t.values].sort((a, b) => a - b),
    });
  }
  unmatched.sort((a, b) => b.reads + b.writes - (a.reads + a.writes));
  return { sockets: out, unmatched };
}
