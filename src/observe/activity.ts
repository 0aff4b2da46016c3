// Socket events summed per peer (JFR names the peer, never the local port),
// with what each read's stack says: which API read (a stream, whose timeout
// is SO_TIMEOUT, or a SocketChannel, which has no timeout), the first
// application frame (the first not in java.*, sun.*, jdk.*) and the library
// it belongs to. Pure: fed SocketIo records, holds counts only, so a
// recording of millions of events costs the memory of its distinct peers
// and stacks.
import { formatIPv6 } from '../model/addr.js';
import type { Frame, SocketIo } from './jfr/socket.js';
import { libraryOf, libraryTable, type LibraryRow } from './libraries.js';

/**
 * How a read was made, from its top JDK frames:
 * - stream: java.net.Socket's InputStream (or a channel's socket adaptor): the timeout is SO_TIMEOUT, 0 = none;
 * - channel: SocketChannel.read: no timeout exists, JFR always reports 0;
 * - unknown: no JDK I/O frame on the stack (JDK 22+ drop them, @StackFilter): a timeout > 0 still
 *   means a stream read; a 0 is told apart by the socket's blocking mode (attribute.ts).
 */
export type ReadApi = 'stream' | 'channel' | 'unknown';

export interface StackInfo {
  api: ReadApi;
  /** First application frame, "org.postgresql.core.VisibleBufferedInputStream.readMore". */
  frame?: string;
  library?: string;
}

const STREAM_CLASSES = new Set([
  'java.net.Socket$SocketInputStream', // JDK 13+
  'java.net.SocketInputStream', // JDK 8-12 (PlainSocketImpl)
  'sun.nio.ch.NioSocketImpl',
  'sun.nio.ch.SocketInputStream', // JDK 22+ socket adaptor (filtered from stacks, kept for completeness)
  'sun.nio.ch.SocketAdaptor',
  'java.net.Socket$SocketOutputStream',
  'java.net.SocketOutputStream',
  'sun.nio.ch.SocketOutputStream',
]);
const CHANNEL_CLASSES = new Set(['sun.nio.ch.SocketChannelImpl', 'java.nio.channels.SocketChannel']);

export function isJdkClass(type: string): boolean {
  return type.startsWith('java.') || type.startsWith('sun.') || type.startsWith('jdk.');
}

export function classifyStack(frames: readonly Frame[], table: LibraryRow[] = libraryTable()): StackInfo {
  let api: ReadApi = 'unknown';
  for (const f of frames) {
    if (!isJdkClass(f.type)) break;
    if (STREAM_CLASSES.has(f.type)) { api = 'stream'; break; }
    if (CHANNEL_CLASSES.has(f.type)) { api = 'channel'; break; }
  }
  const app = frames.find((f) => !isJdkClass(f.type));
  const library = libraryOf(frames.map((f) => f.type), table);
  return { api, ...(app ? { frame: `${app.type}.${app.method}` } : {}), ...(library ? { library } : {}) };
}

/** IPv6 text (any valid form, an embedded IPv4 tail allowed) as 16 bytes; undefined when not IPv6. */
function ipv6Bytes(s: string): Uint8Array | undefined {
  let text = s;
  const v4 = /:([0-9]{1,3}(?:\.[0-9]{1,3}){3})$/.exec(s);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    if (b.some((x) => x > 255)) return undefined;
    text = `${s.slice(0, v4.index)}:${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (x: string) => (x ? x.split(':') : []);
  const h = part(halves[0]!), t = halves.length === 2 ? part(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - h.length - t.length : 0;
  if (fill < 0 || (halves.length === 1 && h.length !== 8)) return undefined;
  const words = [...h, ...new Array<string>(fill).fill('0'), ...t];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-f]{1,4}$/.test(words[i]!)) return undefined;
    const w = parseInt(words[i]!, 16);
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  }
  return out;
}

/**
 * One spelling per peer: IPv4 as is, a v4-mapped IPv6 peer (a dual-stack
 * socket's view) as its IPv4 address, other IPv6 in RFC 5952 form without a
 * zone (the JDK writes "0:0:0:0:0:0:0:1", the report "::1").
 */
export function normalizeAddress(a: string): string {
  let s = a.trim().toLowerCase();
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (!s.includes(':')) return s;
  const b = ipv6Bytes(s);
  if (!b) return s;
  const t = formatIPv6(b);
  return t.startsWith('::ffff:') && t.includes('.') ? t.slice(7) : t;
}

export function peerKey(address: string, port: number): string {
  return `${normalizeAddress(address)}|${port}`;
}

export interface Reader {
  frame?: string;
  library?: string;
  reads: number;
}

export interface PeerActivity {
  address: string;
  port: number;
  /** Host names the JDK reported for this peer (JDK 17 resolves them; JDK 22+ report the literal). */
  hosts: string[];
  reads: number;
  bytesRead: number;
  writes: number;
  bytesWritten: number;
  endOfStream: number;
  /** Reads by how they were made: api -> timeout (ms) -> reads. */
  readKinds: Map<ReadApi, Map<number, number>>;
  /** Reads by stack (what they say about the reader); readers() merges those naming the same frame and library. */
  stacks: Map<StackInfo, number>;
  /** Stream reads that returned nothing and no end of stream: ended in SocketTimeoutException (JDK 21 and older record those), by timeout. */
  timedOut: Map<number, number>;
  firstNs: number;
  lastNs: number;
}

/** The readers of a peer, merged by frame and library, most reads first. */
export function readers(p: PeerActivity): Reader[] {
  const m = new Map<string, Reader>();
  for (const [info, n] of p.stacks) {
    const k = `${info.frame ?? ''}|${info.library ?? ''}`;
    const r = m.get(k);
    if (r) r.reads += n;
    else m.set(k, { ...(info.frame ? { frame: info.frame } : {}), ...(info.library ? { library: info.library } : {}), reads: n });
  }
  return [...m.values()].sort((a, b) => b.reads - a.reads);
}

function bump<K>(m: Map<K, number>, k: K): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

export class SocketActivity {
  /** By normalized address and port ("10.0.0.1|5432"). */
  readonly peers = new Map<string, PeerActivity>();
  /** By the address string as the event spelled it, then port: no string work per event. */
  private byRaw = new Map<string, Map<number, PeerActivity>>();
  /** Unix-domain socket events: not TCP, never matched to a socket of the report. */
  unix = { reads: 0, writes: 0 };
  reads = 0;
  writes = 0;
  /** Events whose stack JFR truncated (the stack depth limit): their readers may be wrong. */
  truncated = 0;
  firstNs = Infinity;
  lastNs = -Infinity;
  private stackInfo = new WeakMap<readonly Frame[], StackInfo>();
  private readonly table: LibraryRow[];

  constructor(table: LibraryRow[] = libraryTable()) {
    this.table = table;
  }

  private peer(e: SocketIo): PeerActivity {
    let ports = this.byRaw.get(e.address);
    if (!ports) this.byRaw.set(e.address, (ports = new Map()));
    let p = ports.get(e.port);
    if (!p) {
      const key = peerKey(e.address, e.port);
      p = this.peers.get(key);
      if (!p) {
        p = {
          address: normalizeAddress(e.address), port: e.port, hosts: [], reads: 0, bytesRead: 0, writes: 0, bytesWritten: 0, endOfStream: 0,
          readKinds: new Map(), stacks: new Map(), timedOut: new Map(), firstNs: e.startTime, lastNs: e.startTime,
        };
        this.peers.set(key, p);
      }
      ports.set(e.port, p);
    }
    return p;
  }

  add(e: SocketIo): void {
    if (e.host === 'Unix domain socket' || e.address.startsWith('[')) {
      if (e.kind === 'read') this.unix.reads++;
      else this.unix.writes++;
      return;
    }
    const p = this.peer(e);
    if (e.host && e.host !== p.address && p.hosts.length < 4 && !p.hosts.includes(e.host)) p.hosts.push(e.host);
    const t = e.startTime;
    if (t < p.firstNs) p.firstNs = t;
    if (t > p.lastNs) p.lastNs = t;
    if (t < this.firstNs) this.firstNs = t;
    if (t > this.lastNs) this.lastNs = t;
    if (e.truncated) this.truncated++;
    if (e.kind === 'write') {
      this.writes++;
      p.writes++;
      p.bytesWritten += e.bytes;
      return;
    }
    this.reads++;
    p.reads++;
    p.bytesRead += e.bytes;
    if (e.endOfStream) p.endOfStream++;
    let info = this.stackInfo.get(e.frames);
    if (!info) {
      info = classifyStack(e.frames, this.table);
      this.stackInfo.set(e.frames, info);
    }
    const timeout = e.timeout ?? 0;
    let byTimeout = p.readKinds.get(info.api);
    if (!byTimeout) p.readKinds.set(info.api, (byTimeout = new Map()));
    bump(byTimeout, timeout);
    bump(p.stacks, info);
    // A stream read returns data, or -1 at the end: 0 bytes means it threw SocketTimeoutException.
    if (info.api === 'stream' && e.bytes === 0 && !e.endOfStream) bump(p.timedOut, timeout);
  }
}
