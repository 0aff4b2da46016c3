// The JSON report: the contract CI users parse (see README "JSON"). Up to
// NATIVE_UP_TO sockets, the whole document is one JSON.stringify; beyond, it is
// streamed socket by socket by the caching writer below, so a 50,000-socket
// report is never held twice in memory (the same bytes either way).
// One piece: the writer's caches (texts by identity, by content, by entry)
// and the walk that fills and reads them are one design, kept together.
import type { ListenerTemplate, ReportSocket, ReportStream } from '../model/types.js';
import { LISTENER_TEMPLATE } from '../model/types.js';

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

/**
 * How the writer treats the values met at one place of the report:
 * - plain: walked;
 * - shared: objects shared by identity between sockets (one verdicts object,
 *   java array ... per signature): each one's text made once;
 * - flat: objects of strings, numbers, booleans or such objects (a reading,
 *   a verdict, userLocks): each one's text found by identity (the sources
 *   share equal readings), then by content (Flat below), shared or not, until
 *   the place proves to hold mostly one-off objects, or contents.
 * Objects at a place whose kind is 'entries' are of flat objects (options,
 * verdicts), each one's text kept by identity while objects repeat (the bpf
 * source gives sockets of equal options one object); 'socket' is the socket
 * itself.
 */
type Kind = 'plain' | 'shared' | 'flat' | 'entries' | 'socket';

/** The kind of a socket's field (socketJson's keys); objects not listed are tried as flat. */
const FIELD_KINDS: Record<string, Kind> = {
  options: 'entries', verdicts: 'shared',
  apis: 'shared', java: 'shared', unobservable: 'shared', hints: 'shared', observed: 'shared', listener: 'shared', listenerCandidates: 'shared',
};

function childKind(kind: Kind, key: string): Kind {
  switch (kind) {
    case 'socket': return FIELD_KINDS[key] ?? 'flat';
    // A shared verdicts object is made of verdicts, shared or not.
    case 'entries': case 'flat': case 'shared': return 'flat';
    default: return 'plain';
  }
}

/** Texts of shared objects kept per report at most, and their characters: shared objects come first and stay; one-off objects beyond it are not kept. */
const MAX_CACHED = 8192;
const MAX_CACHED_CHARS = 8 << 20;
/** Nodes of Flat tries per report at most. */
const MAX_FLAT_NODES = 16384;
/** Entry texts kept per key of an object at one place at most (values of a key: a few readings, or one per socket), of values this long at most (a longer one gains little from one piece less). */
const MAX_ENTRY_TEXTS = 64;
const MAX_ENTRY_VALUE = 512;
/** A cache found in fewer than 1 of 4 of its last WINDOW lookups is given up: one-off contents (ports, tcp_info counters) cost a lookup and a copy each. */
const WINDOW = 64;

/**
 * Texts of flat objects by content: a trie over their entries in order (key,
 * then value: a string, number, boolean or null, compared as Map keys do,
 * which JSON writes the same: 0 and -0, NaN and NaN; or the node of a flat
 * object), its node holding the text of an object that ends there. Most nodes
 * have one next key: `key`, `next`.
 */
interface Flat {
  key?: string;
  next?: Map<unknown, Flat>;
  more?: Map<string, Map<unknown, Flat>>;
  text?: string;
}

/** Hits of a cache in its current window of lookups. */
class Tally {
  private looked = 0;
  private found = 0;
  /** Counts a lookup; false when the window just ended with too few found. */
  count(found: boolean): boolean {
    if (found) this.found++;
    if (++this.looked < WINDOW) return true;
    const keep = this.found * 4 >= this.looked;
    this.looked = this.found = 0;
    return keep;
  }
}

/**
 * A key of the objects met at one place: its text before the value (when it
 * is the object's first entry written, and otherwise), the place of its
 * values, and the texts of whole entries (separator, key, value) by the
 * value's text, while they repeat.
 */
interface Entry {
  key: string;
  first: string;
  next: string;
  at: Slot;
  /** As the object's first entry, and after another. */
  firstTexts: Map<string, string> | undefined;
  texts: Map<string, string> | undefined;
  tally: Tally;
}

/**
 * What the writer learned at one place of the report (a socket field, a
 * reading of it ...). What it keeps depends only on its depth and the
 * objects met (never on the place's name), so it is right for any object.
 * Entries are found by key, and by position first: objects at one place
 * mostly have the same keys in the same order.
 */
class Slot {
  readonly l: Layout;
  readonly byPosition: Entry[] = [];
  readonly byKey = new Map<string, Entry>();
  /** The place of an array's items. */
  items?: Slot;
  /** kind shared: text by object. */
  readonly texts?: Map<object, string>;
  /** kind flat, until given up. */
  flat?: Flat;
  flatNodes = 0;
  readonly tally = new Tally();
  /** kinds flat and entries, until given up: texts by object, while objects repeat; entries: their characters. */
  known?: Map<object, string>;
  knownChars = 0;
  readonly knownTally = new Tally();

  constructor(readonly depth: number, readonly kind: Kind) {
    this.l = layout(depth);
    if (kind === 'shared') this.texts = new Map();
    if (kind === 'flat') this.flat = {};
    if (kind === 'flat' || kind === 'entries') this.known = new Map();
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Whether JSON leaves the value of a key out. */
const omitted = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/** How many times placeholder occurs in the strings (keys and values) of v and what it holds. */
function placeholders(v: unknown, placeholder: string): number {
  if (typeof v === 'string') return v.split(placeholder).length - 1;
  if (typeof v !== 'object' || v === null) return 0;
  let n = 0;
  for (const k in v) {
    if (!hasOwn.call(v, k)) continue;
    const x = (v as Record<string, unknown>)[k];
    if (omitted(x)) continue;
    n += placeholders(k, placeholder) + placeholders(x, placeholder);
  }
  return n;
}

/** One flat string of two (a cons string would be copied again into each text holding it). */
const flatConcat = (a: string, b: string) => [a, b].join('');

/**
 * Writes sockets as JSON.stringify([[socket]], null, 2) lays them out inside
 * the report, byte for byte (test/scale.test.ts compares the two), as pieces
 * of text pushed onto an array that is joined once per chunk. Joining costs
 * by the piece more than by the byte, so what repeats is pushed as one
 * piece made once per report: each shared object (a socket's verdicts, java
 * calls ... are one object per signature, ~1,000 in 10,000 sockets), each
 * distinct flat object (readings, verdicts: a few dozen contents), each
 * entry of a key with a value that repeats (separator, key and value: a
 * state, a source, a zero counter). Strings are quoted by JSON.stringify;
 * numbers are written as JSON writes them (String(n), null when not
 * finite). Anything that is not plain data (a toJSON method) goes to
 * JSON.stringify itself.
 */
class SocketWriter {
  private cached = 0;
  private cachedChars = 0;
  private flatNodes = 0;
  private readonly quoted = new Map<string, string>();
  /** A listener template's text cut at its placeholders (null: not usable, see filled). */
  private readonly templates = new Map<object, string[] | null>();
  private readonly socket = new Slot(SOCKET_DEPTH, 'socket');

  private str(s: string): string {
    let t = this.quoted.get(s);
    if (t === undefined) {
      t = JSON.stringify(s);
      if (this.quoted.size < MAX_CACHED) this.quoted.set(s, t);
    }
    return t;
  }

  private entry(at: Slot, i: number, k: string): Entry {
    let e = at.byKey.get(k);
    if (!e) {
      const q = `${this.str(k)}: `;
      e = { key: k, first: at.l.openObject + q, next: at.l.next + q, at: new Slot(at.depth + 1, childKind(at.kind, k)), firstTexts: new Map(), texts: new Map(), tally: new Tally() };
      if (at.byKey.size < MAX_CACHED) at.byKey.set(k, e);
    }
    at.byPosition[i] = e;
    return e;
  }

  /** Pushes v's text at the slot's depth; false when JSON leaves the value out (undefined, a function, a symbol). */
  private value(out: string[], v: unknown, at: Slot): boolean {
    if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON !== 'function') {
      const t = this.text(v, at);
      if (t !== undefined) out.push(t);
      else if (Array.isArray(v)) this.array(out, v, at);
      else this.object(out, v as Record<string, unknown>, at);
      return true;
    }
    const t = this.scalar(v, at.depth);
    if (t === undefined) return false;
    out.push(t);
    return true;
  }

  /** The text of anything but a plain object or array; undefined when JSON leaves it out. */
  private scalar(v: unknown, depth: number): string | undefined {
    switch (typeof v) {
      case 'string': return this.str(v);
      case 'number': return Number.isFinite(v) ? String(v) : 'null';
      case 'boolean': return v ? 'true' : 'false';
      default: {
        if (v === null) return 'null';
        // JSON.stringify's own text (a toJSON method, a bigint's error ...), nested at depth.
        const t = JSON.stringify(v, null, 2);
        return t === undefined || depth === 0 ? t : t.replaceAll('\n', layout(depth).nl);
      }
    }
  }

  /** A plain object's or array's text as one string, when this place keeps it (or is to): undefined for the walk. */
  private text(v: object, at: Slot): string | undefined {
    if (at.texts) return this.shared(v, at, at.texts);
    if (at.flat && !Array.isArray(v)) return this.flatText(v as Record<string, unknown>, at, at.flat);
    if (at.known && at.kind === 'entries') return this.knownText(v, at, at.known);
    return undefined;
  }

  /**
   * An object of entries (options) as one text, kept by identity while objects
   * repeat (the bpf source gives sockets of equal options one object);
   * undefined once the place proves to hold one object per socket: walked.
   */
  private knownText(v: object, at: Slot, known: Map<object, string>): string | undefined {
    let t = known.get(v);
    if (!at.knownTally.count(t !== undefined)) {
      at.known = undefined;
      this.cachedChars -= at.knownChars;
    }
    if (t !== undefined || !at.known) return t;
    t = this.whole(v, at);
    if (known.size < MAX_CACHED && this.cachedChars + t.length <= MAX_CACHED_CHARS) {
      known.set(v, t);
      at.knownChars += t.length;
      this.cachedChars += t.length;
    }
    return t;
  }

  /** v's text as one string, walked at this place (for a text that is kept). */
  private whole(v: object, at: Slot): string {
    const pieces: string[] = [];
    if (Array.isArray(v)) this.array(pieces, v, at);
    else this.object(pieces, v as Record<string, unknown>, at);
    return pieces.join('');
  }

  private array(out: string[], a: unknown[], at: Slot): void {
    if (a.length === 0) { out.push('[]'); return; }
    const l = at.l, items = (at.items ??= new Slot(at.depth + 1, 'plain'));
    for (let i = 0; i < a.length; i++) {
      out.push(i === 0 ? l.openArray : l.next);
      if (!this.value(out, a[i], items)) out.push('null');
    }
    out.push(l.closeArray);
  }

  private object(out: string[], o: Record<string, unknown>, at: Slot): void {
    let i = 0, n = 0;
    for (const k in o) {
      if (!hasOwn.call(o, k)) continue;
      const v = o[k];
      if (omitted(v)) { i++; continue; }
      let e = at.byPosition[i];
      if (e === undefined || e.key !== k) e = this.entry(at, i, k);
      i++;
      if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON !== 'function') {
        const f = e.at.texts ? this.filled(v, e.at, e.at.texts) : undefined;
        if (f) {
          out.push(n++ === 0 ? e.first : e.next);
          this.pushFilled(out, f);
          continue;
        }
        const t = this.text(v, e.at);
        if (t !== undefined) this.entryText(out, e, n++ === 0, t);
        else {
          out.push(n++ === 0 ? e.first : e.next);
          if (Array.isArray(v)) this.array(out, v, e.at);
          else this.object(out, v as Record<string, unknown>, e.at);
        }
      } else {
        const t = this.scalar(v, e.at.depth);
        if (t !== undefined) this.entryText(out, e, n++ === 0, t); // else left out by JSON (a toJSON giving undefined)
      }
    }
    out.push(n === 0 ? '{}' : at.l.closeObject);
  }

  /** Separator, key and value: as one piece, kept while the key's (short) values repeat. */
  private entryText(out: string[], e: Entry, first: boolean, t: string): void {
    const texts = first ? e.firstTexts : e.texts;
    if (texts === undefined || t.length > MAX_ENTRY_VALUE) { out.push(first ? e.first : e.next, t); return; }
    let et = texts.get(t);
    if (!e.tally.count(et !== undefined)) e.texts = e.firstTexts = undefined;
    if (et === undefined) {
      et = flatConcat(first ? e.first : e.next, t);
      if (texts.size < MAX_ENTRY_TEXTS) texts.set(t, et);
    }
    out.push(et);
  }

  /** An object likely shared by many sockets: its text made once per report. */
  private shared(v: object, at: Slot, texts: Map<object, string>): string {
    let t = texts.get(v);
    if (t === undefined) {
      const f = this.filled(v, at, texts);
      t = f ? f.parts.join(f.name) : this.whole(v, at);
      if (this.cached < MAX_CACHED && this.cachedChars + t.length <= MAX_CACHED_CHARS) {
        texts.set(v, t);
        this.cached++;
        this.cachedChars += t.length;
      }
    }
    return t;
  }

  /**
   * An object made for one listener from a template (its notes name the
   * listener by a placeholder; LISTENER_TEMPLATE): the template's text cut at
   * the escaped placeholder (made once per template), and the escaped name to
   * put between the pieces (JSON escapes a string character by character, so
   * the escaped name goes where the escaped placeholder is). Undefined when v
   * is no such object, or the template's text holds the escaped placeholder
   * anywhere else than in place of it (a string holding its escape as text):
   * v is walked.
   */
  private filled(v: object, at: Slot, texts: Map<object, string>): { parts: string[]; name: string } | undefined {
    const link = (v as { [LISTENER_TEMPLATE]?: ListenerTemplate })[LISTENER_TEMPLATE];
    if (link === undefined) return undefined;
    let parts = this.templates.get(link.template);
    if (parts === undefined) {
      const t = texts.get(link.template) ?? this.whole(link.template, at);
      parts = t.split(JSON.stringify(link.placeholder).slice(1, -1));
      if (parts.length - 1 !== placeholders(link.template, link.placeholder)) parts = null;
      this.templates.set(link.template, parts);
    }
    return parts === null ? undefined : { parts, name: JSON.stringify(link.name).slice(1, -1) };
  }

  /** filled()'s pieces with the name between them, pushed in turn: no string is made (and kept) per listener. */
  private pushFilled(out: string[], f: { parts: string[]; name: string }): void {
    const { parts, name } = f;
    out.push(parts[0]!);
    for (let i = 1; i < parts.length; i++) out.push(name, parts[i]!);
  }

  /**
   * The node of a flat object's content in at's trie; undefined when not
   * there (or not flat). With its text: the nodes are added (the tries having
   * room) and the last one holds it.
   */
  private find(o: Record<string, unknown>, at: Slot, root: Flat, text?: string): Flat | undefined {
    let node: Flat | undefined = root;
    let i = 0;
    for (const k in o) {
      if (!hasOwn.call(o, k)) continue;
      let v = o[k];
      if (omitted(v)) { i++; continue; }
      if (v !== null && typeof v === 'object') {
        const below = this.nested(o, i, k, v, at);
        if (below?.text === undefined) return undefined;
        v = below;
      }
      i++;
      const next: Flat | undefined = (node.key === k ? node.next : node.more?.get(k))?.get(v);
      node = next ?? (text === undefined ? undefined : this.add(node, k, v, at));
      if (node === undefined) return undefined;
    }
    if (text !== undefined) node.text = text;
    return node;
  }

  /** A new node below node, for key k and value v; undefined when the tries are full. */
  private add(node: Flat, k: string, v: unknown, at: Slot): Flat | undefined {
    if (this.flatNodes >= MAX_FLAT_NODES) return undefined;
    let byValue: Map<unknown, Flat> | undefined;
    if (node.key === undefined) { node.key = k; byValue = node.next = new Map(); }
    else if (node.key === k) byValue = node.next!;
    else {
      node.more ??= new Map();
      byValue = node.more.get(k);
      if (!byValue) node.more.set(k, (byValue = new Map()));
    }
    const child: Flat = {};
    byValue.set(v, child);
    this.flatNodes++;
    at.flatNodes++;
    return child;
  }

  /** The node of a flat object held by key k (at position i) of an object at `at`, in its own place's trie. */
  private nested(o: Record<string, unknown>, i: number, k: string, v: object, at: Slot): Flat | undefined {
    if (Array.isArray(v) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return undefined;
    let e = at.byPosition[i];
    if (e === undefined || e.key !== k) e = this.entry(at, i, k);
    const below = e.at.flat;
    return below && this.find(v as Record<string, unknown>, e.at, below);
  }

  /**
   * A flat object's text: found by identity first (the sources share equal
   * readings: one object in many sockets' options), then by content; made
   * (and kept) once per distinct content.
   */
  private flatText(o: Record<string, unknown>, at: Slot, root: Flat): string {
    const known = at.known;
    if (known) {
      const t = known.get(o);
      if (!at.knownTally.count(t !== undefined)) at.known = undefined; // one object per socket here
      if (t !== undefined) return t;
    }
    const node = this.find(o, at, root);
    const found = node?.text !== undefined;
    if (!at.tally.count(found)) {
      // Mostly one-off contents here: walked from now on.
      this.flatNodes -= at.flatNodes;
      at.flat = undefined;
      at.flatNodes = 0;
      at.known = undefined;
    }
    let t = node?.text;
    if (t === undefined) {
      t = this.whole(o, at);
      if (at.flat) this.find(o, at, at.flat, t);
    }
    if (at.known && at.known.size < MAX_CACHED) at.known.set(o, t);
    return t;
  }

  /** The socket's text, its first line not indented, pushed onto out. */
  write(out: string[], s: ReportSocket): void {
    this.object(out, socketJson(s), this.socket);
  }
}

/** Between two sockets of the "sockets" array. */
const NEXT_SOCKET = `,${layout(SOCKET_DEPTH).nl}`;

/** Sockets per chunk: a chunk is one string of ~50 KB (8 sockets of ~6.5 KB), below V8's large-object size. */
const BATCH = 8;

/**
 * Up to this many sockets, JSON.stringify writes the whole document (at most a
 * few MB): the writer's caches pay for themselves over many sockets, and a cold
 * writer takes ~10 ms before they do, where JSON.stringify needs no warming (a
 * 100-socket report ~9 ms faster, measured; one call for the document rather
 * than one per socket, re-indented for its depth, another 2.5 ms); at 1,000
 * sockets the writer is faster again in the CLI (86 against 96 ms:
 * bench/results.md).
 */
export const NATIVE_UP_TO = 500;
const SOCKET_INDENT = layout(SOCKET_DEPTH).nl;

/** How renderJson writes sockets: 'auto' by their number; the others for tests. */
export type JsonWriter = 'auto' | 'native' | 'cached';

/** Beyond NATIVE_UP_TO sockets, streams: each socket is written as it comes (analyzeStream(capture) gives them one at a time) and not kept. */
export function* renderJson(r: ReportStream, how: JsonWriter = 'auto'): Generator<string> {
  const top = {
    pid: r.process.pid, process: r.process, host: r.host, tool: r.tool, capturedAt: r.capturedAt,
    formatVersion: r.formatVersion, sources: r.sources, partial: r.partial, exited: r.exited, missing: r.missing,
    warnings: r.warnings, vanished: r.vanished, defaults: r.defaults, ...(r.redacted ? { redacted: true } : {}),
    ...(r.observation ? { observation: r.observation } : {}),
    ...(r.notObserved ? { notObserved: r.notObserved } : {}),
  };
  const count = Array.isArray(r.sockets) ? r.sockets.length : r.socketCount;
  if (how === 'native' || (how === 'auto' && count !== undefined && count <= NATIVE_UP_TO)) {
    // The whole document in one call: per socket, a call and a re-indented copy cost more than the text.
    yield `${JSON.stringify({ ...top, sockets: Array.from(r.sockets, socketJson) }, null, 2)}\n`;
    return;
  }
  const opening = JSON.stringify(top, null, 2);
  yield `${opening.slice(0, -2)},\n  "sockets": [`;
  const writer = new SocketWriter();
  const parts: string[] = [];
  let n = 0;
  for (const s of r.sockets) {
    parts.push(n === 0 ? SOCKET_INDENT : NEXT_SOCKET);
    writer.write(parts, s);
    if (++n % BATCH === 0) {
      yield parts.join('');
      parts.length = 0;
    }
  }
  if (parts.length) yield parts.join('');
  yield `${n === 0 ? '' : '\n  '}]\n}\n`;
}
