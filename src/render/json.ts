// The JSON report: the contract CI users parse (see README "JSON"). Streamed
// socket by socket so a 50,000-socket report is never held twice in memory.
import type { ReportSocket, ReportStream } from '../model/types.js';

/**
 * A socket as the report prints it. Optional fields are undefined when absent
 * (JSON.stringify leaves them out), so every socket has one shape: no
 * conditional spreads, which V8 builds on a slow path, copy by copy.
 */
export function socketJson(s: ReportSocket): Record<string, unknown> {
  return {
    protocol: s.protocol, fd: s.fd, inode: s.inode, local: s.local, remote: s.remote, state: s.state,
    recvQ: s.recvQ, sendQ: s.sendQ, diag: s.diag, role: s.role, roleConfidence: s.roleConfidence, roleNote: s.roleNote,
    apis: s.apis, classNote: s.classNote,
    options: s.options, java: s.java, unobservable: s.unobservable, verdicts: s.verdicts,
    unknown: s.unknown.length ? s.unknown : undefined,
    hints: s.hints.length ? s.hints : undefined,
    listener: s.listener ? s.listener : undefined,
    listenerCandidates: s.listenerCandidates ? s.listenerCandidates : undefined,
    userLocks: s.userLocks ? s.userLocks : undefined,
    bindLocks: s.bindLocks ? s.bindLocks : undefined,
    timer: s.timer ? s.timer : undefined,
    shutdown: s.shutdown ? s.shutdown : undefined,
    nonBlocking: s.nonBlocking,
    uid: s.uid,
    vanished: s.vanished ? true : undefined,
    sources: s.sources,
    tcpInfo: s.tcpInfo ? s.tcpInfo : undefined,
    observed: s.observed,
  };
}

/**
 * The separators of an object or array at some depth, as JSON.stringify(v, null, 2)
 * lays them out (2 spaces a level): made once per depth, not once per entry.
 */
interface Layout {
  /** A line break indented for this depth. */
  nl: string;
  /** Before the first entry of an object or array at this depth, and before each next one. */
  openObject: string;
  openArray: string;
  next: string;
  /** After the last entry. */
  closeObject: string;
  closeArray: string;
}
const LAYOUTS: Layout[] = [];
function layout(depth: number): Layout {
  let l = LAYOUTS[depth];
  if (!l) {
    const outer = `\n${'  '.repeat(depth)}`, inner = `\n${'  '.repeat(depth + 1)}`;
    l = LAYOUTS[depth] = { nl: outer, openObject: `{${inner}`, openArray: `[${inner}`, next: `,${inner}`, closeObject: `${outer}}`, closeArray: `${outer}]` };
  }
  return l;
}

/** Sockets sit at depth 2 of the report: {"sockets": [ {socket} ]}. */
const SOCKET_DEPTH = 2;

/** Fields whose entries are mostly objects shared between sockets (equal option readings, equal verdicts). */
const MAPS_OF_SHARED = new Set(['options', 'verdicts']);
/** Fields that are one array per role (apis, unobservable), or one object per peer group (observed). */
const SHARED = new Set(['apis', 'unobservable', 'observed']);
/** Texts kept per report at most: shared objects come first and stay; one-off objects beyond it are not kept. */
const MAX_CACHED = 8192;

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Writes sockets as JSON.stringify([[socket]], null, 2) lays them out inside
 * the report, byte for byte (test/scale.test.ts compares the two), as pieces
 * of text pushed onto an array that is joined once per chunk. Strings are
 * quoted by JSON.stringify; numbers are written as JSON writes them
 * (String(n), null when not finite). What repeats is made once per report:
 * the text of each shared object (a socket's ~30 option readings and ~26
 * verdicts are a few dozen distinct objects in the whole report), quoted
 * keys and strings. Anything that is not plain data (a toJSON method) goes
 * to JSON.stringify itself.
 */
class SocketWriter {
  /** By depth: an object's text depends on how deep it sits. */
  private readonly texts: Map<object, string>[] = [];
  /** By depth, key and value object: the text of an entry of an options or verdicts object. */
  private readonly entries: Map<string, Map<object, string>>[] = [];
  private cached = 0;
  private readonly quoted = new Map<string, string>();
  private readonly keys = new Map<string, string>();

  private str(s: string): string {
    let t = this.quoted.get(s);
    if (t === undefined) {
      t = JSON.stringify(s);
      if (this.quoted.size < MAX_CACHED) this.quoted.set(s, t);
    }
    return t;
  }

  private key(k: string): string {
    let t = this.keys.get(k);
    if (t === undefined) {
      t = `${JSON.stringify(k)}: `;
      this.keys.set(k, t);
    }
    return t;
  }

  /** Pushes v's text at depth; false when JSON leaves the value out (undefined, a function, a symbol). */
  private value(out: string[], v: unknown, depth: number): boolean {
    switch (typeof v) {
      case 'string': out.push(this.str(v)); return true;
      case 'number': out.push(Number.isFinite(v) ? String(v) : 'null'); return true;
      case 'boolean': out.push(v ? 'true' : 'false'); return true;
      case 'object':
        if (v === null) { out.push('null'); return true; }
        if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return this.stringified(out, v, depth);
        if (Array.isArray(v)) this.array(out, v, depth);
        else this.object(out, v as Record<string, unknown>, depth);
        return true;
      default: return this.stringified(out, v, depth);
    }
  }

  /** JSON.stringify's own text, nested at depth. */
  private stringified(out: string[], v: unknown, depth: number): boolean {
    const t = JSON.stringify(v, null, 2);
    if (t === undefined) return false;
    out.push(depth === 0 ? t : t.replaceAll('\n', layout(depth).nl));
    return true;
  }

  private array(out: string[], a: unknown[], depth: number): void {
    if (a.length === 0) { out.push('[]'); return; }
    const l = layout(depth);
    for (let i = 0; i < a.length; i++) {
      out.push(i === 0 ? l.openArray : l.next);
      if (!this.value(out, a[i], depth + 1)) out.push('null');
    }
    out.push(l.closeArray);
  }

  private object(out: string[], o: Record<string, unknown>, depth: number): void {
    const l = layout(depth);
    let first = true;
    for (const k in o) {
      if (!hasOwn.call(o, k)) continue;
      const v = o[k];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      out.push(first ? l.openObject : l.next, this.key(k));
      this.value(out, v, depth + 1);
      first = false;
    }
    out.push(first ? '{}' : l.closeObject);
  }

  /** An object likely shared by many sockets: its text made once per report. */
  private shared(out: string[], v: unknown, depth: number): boolean {
    if (v === null || typeof v !== 'object') return this.value(out, v, depth);
    const texts = (this.texts[depth] ??= new Map());
    let t = texts.get(v);
    if (t === undefined) {
      const pieces: string[] = [];
      if (!this.value(pieces, v, depth)) return false;
      t = pieces.join('');
      if (this.cached < MAX_CACHED) { texts.set(v, t); this.cached++; }
    }
    out.push(t);
    return true;
  }

  /**
   * An object whose entries are shared objects, at depth. Each entry's text
   * (line break, key, value) is made once per key and value object: a verdict
   * object is shared between options, a reading belongs to one option.
   */
  private mapOfShared(out: string[], m: Record<string, unknown>, depth: number): void {
    const entries = (this.entries[depth] ??= new Map());
    const l = layout(depth);
    let first = true;
    for (const k in m) {
      if (!hasOwn.call(m, k)) continue;
      const v = m[k];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      out.push(first ? '{' : ',');
      first = false;
      if (v === null || typeof v !== 'object') {
        out.push(layout(depth + 1).nl, this.key(k));
        this.value(out, v, depth + 1);
        continue;
      }
      let byValue = entries.get(k);
      if (!byValue) entries.set(k, (byValue = new Map()));
      let t = byValue.get(v);
      if (t === undefined) {
        const pieces: string[] = [layout(depth + 1).nl, this.key(k)];
        this.value(pieces, v, depth + 1);
        t = pieces.join('');
        if (this.cached < MAX_CACHED) { byValue.set(v, t); this.cached++; }
      }
      out.push(t);
    }
    out.push(first ? '{}' : l.closeObject);
  }

  /** The socket's text, its first line not indented, pushed onto out. */
  write(out: string[], s: ReportSocket): void {
    const o = socketJson(s);
    const depth = SOCKET_DEPTH;
    const l = layout(depth);
    let first = true;
    for (const k in o) {
      const v = o[k];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      out.push(first ? l.openObject : l.next, this.key(k));
      if (MAPS_OF_SHARED.has(k) && v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as { toJSON?: unknown }).toJSON !== 'function') {
        this.mapOfShared(out, v as Record<string, unknown>, depth + 1);
      } else if (SHARED.has(k)) {
        this.shared(out, v, depth + 1);
      } else {
        this.value(out, v, depth + 1);
      }
      first = false;
    }
    out.push(first ? '{}' : l.closeObject);
  }
}

/** Between two sockets of the "sockets" array. */
const NEXT_SOCKET = `,${layout(SOCKET_DEPTH).nl}`;

/** Sockets per chunk: a chunk is one string of ~50 KB (8 sockets of ~6.5 KB), below V8's large-object size. */
const BATCH = 8;

/** Streams: each socket is written as it comes (analyzeStream(capture) gives them one at a time) and not kept. */
export function* renderJson(r: ReportStream): Generator<string> {
  const top = {
    pid: r.process.pid, process: r.process, host: r.host, tool: r.tool, capturedAt: r.capturedAt,
    formatVersion: r.formatVersion, sources: r.sources, partial: r.partial, exited: r.exited, missing: r.missing,
    warnings: r.warnings, vanished: r.vanished, defaults: r.defaults, ...(r.redacted ? { redacted: true } : {}),
    ...(r.observation ? { observation: r.observation } : {}),
    ...(r.notObserved ? { notObserved: r.notObserved } : {}),
  };
  const opening = JSON.stringify(top, null, 2);
  yield `${opening.slice(0, -2)},\n  "sockets": [`;
  const writer = new SocketWriter();
  const parts: string[] = [];
  let n = 0;
  for (const s of r.sockets) {
    parts.push(n === 0 ? layout(SOCKET_DEPTH).nl : NEXT_SOCKET);
    writer.write(parts, s);
    if (++n % BATCH === 0) {
      yield parts.join('');
      parts.length = 0;
    }
  }
  if (parts.length) yield parts.join('');
  yield `${n === 0 ? '' : '\n  '}]\n}\n`;
}
