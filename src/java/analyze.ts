// Capture -> Report: give each socket a role (roles.ts), find the Java
// classes that can have made it (the kinds of mappings/socket-kinds.json,
// ranked by how many application calls each needs, narrowed by the fd's
// O_NONBLOCK, the JVM's threads and what each class can set at all),
// compare every option with what a fresh socket of that kind has (kernel
// default, plus what the JDK sets by itself; for an accepted socket, its
// listener's), and write the differences back as Java calls that compile on
// the class they name (calls.ts), each verdict saying how sure it is and why.
//
// One piece on purpose (~700 lines): the role, the class ranking, the verdicts
// and the calls read the same per-socket facts and feed each other (a call is
// spelled for the classes the ranking leaves; an accepted socket's verdicts are
// its listener's); the concerns that stand alone live beside it: roles.ts,
// buffers.ts, calls.ts, defaults.ts, verdicts.ts, hints.ts, context.ts.
//
// Most sockets of a JVM are configured alike: the analysis of a socket is
// computed once per distinct signature (every input it reads: role facts,
// protocol, state, option values and what the kernel says of them, the fd's
// flags, the listener's own signature) and its results (java calls, verdicts,
// hints, apis) are shared, read-only, by every socket with that signature.
// Signatures are compared field by field (sameInputs), found by a hash: no
// string per socket. Sockets accepted by listeners alike share one result that
// names the listener by placeholder, made whole once per listener.
import { mappings, type JavaGroup, type JavaOption, type JdkDefaultRow } from '../mappings.js';
import { formatEndpoint } from '../model/addr.js';
import type { Capture, Evidence, JavaCall, JavaCallAlternative, ListenerTemplate, OptionValue, OptionVerdict, RawSocket, Report, ReportSocket, ReportStream, Role, Unobservable } from '../model/types.js';
import { LISTENER_TEMPLATE } from '../model/types.js';
import { bufferFacts, judgeBuffer, type BufferFacts } from './buffers.js';
import { merge, show, spell, tiedCall } from './calls.js';
import { cachedJdkRow, context, freshFor, type Ctx, type RoleInfo } from './context.js';
import { boundToIPv6, covers, same, tosToPriority } from './defaults.js';
import { frameworkHints } from './hints.js';
import { nonBlockingHint } from './nonblocking.js';
import { roleOf } from './roles.js';
import { dynamicVerdict, shared, systemDefault, verdictScratch, verdictsObject } from './verdicts.js';

/** A Java kind that can have made a socket of a role and family. */
interface Kind {
  kind: string;
  api: string;
  group: JavaGroup;
  row: JdkDefaultRow | undefined;
  /** Accepted kinds: the listener kind that accepts them, and its JDK row. */
  listener?: { kind: string; api: string; row: JdkDefaultRow | undefined };
}

/** What an analysis gives every socket of one signature: shared, read-only. */
interface Result {
  /** Numbers the result, for the signatures of the sockets a listener with it accepted. */
  id: number;
  role: Role;
  roleConfidence: RoleInfo['confidence'];
  apis: string[];
  java: JavaCall[];
  verdicts: Record<string, OptionVerdict>;
  unobservable: Unobservable[];
  hints: string[];
  unknown: string[];
  classNote?: string;
  /** Its verdicts and calls name the listener by LISTENER_NAME and LISTENER_FROM: a template, made whole per listener (forListener). */
  perListener: boolean;
  /** The hints of its sockets whose fd is non-blocking (nonBlockingHint added), made on first use. */
  nonBlockingHints: string[] | undefined;
  /** For the sockets a listener accepted: its verdict and call per option, and the classes it can be. */
  calls: Map<string, JavaCall>;
  classes: string[];
}

/** A call needing a class that cannot make it at all weighs this much: the classes that can win. */
const PENALTY = 100;
/** Options whose value moves by itself, derived ones, and the listener's backlog: they tell no class apart. */
const NOT_A_CHOICE = new Set(['backlog', 'SO_RCVBUF', 'SO_SNDBUF', 'SO_PRIORITY', 'TCP_QUICKACK', 'TCP_MAXSEG']);
const KEEPALIVE = new Set(['TCP_KEEPIDLE', 'TCP_KEEPINTVL', 'TCP_KEEPCNT']);
const BUFFER = new Set(['SO_RCVBUF', 'SO_SNDBUF']);

/** A buffer size that only a call explains (locked, or on a socket the kernel never resizes): it tells classes apart (no listener class sets SO_SNDBUF). */
function bufferIsChoice(f: Facts, name: string): boolean {
  const lock = name === 'SO_RCVBUF' ? f.s.userLocks?.rcvbuf : f.s.userLocks?.sndbuf;
  if (lock !== undefined) return lock;
  return f.ri.role === 'unconnected' || f.ri.role === 'udp' || f.ri.role === 'listening';
}
const EMPTY: string[] = [];

/**
 * An accepted socket's verdicts and calls name its listener ("inherited from listener fd 4 (...)"), and
 * nothing else of it the analysis reads is the listener's own (its options are its signature's): sockets
 * accepted by listeners of one signature share one result, with the listener named by these placeholders,
 * replaced per listener. U+0001 is in no kernel, JDK or mapping text, and keeps the notes one-byte strings
 * (a two-byte character, even replaced, leaves V8 a two-byte string: every JSON chunk with one would be).
 */
const LISTENER_NAME = '\u0001';
const LISTENER_FROM: { fd: number; local: { address: string; port: number } } = { fd: -1, local: { address: LISTENER_NAME, port: -1 } };

function kindsOf(ctx: Ctx, role: Role, family: 4 | 6): Kind[] {
  const key = `kinds|${role}|${family}`;
  let ks = ctx.kinds.get(key) as Kind[] | undefined;
  if (!ks) {
    const rk = mappings().kinds[role];
    ks = rk.kinds.map((k) => ({
      kind: k.kind, api: k.api, group: k.group ?? rk.group, row: cachedJdkRow(ctx, k.kind, family),
      ...(k.listener ? { listener: { ...k.listener, row: cachedJdkRow(ctx, k.listener.kind, family) } } : {}),
    }));
    ctx.kinds.set(key, ks);
  }
  return ks;
}

function valueIn(row: JdkDefaultRow | undefined, name: string): OptionValue | undefined {
  return row?.options?.[name] as OptionValue | undefined;
}

/** Per option of one socket: its reading's value, and what each kind would have without an application call. */
interface Facts {
  s: RawSocket;
  ri: RoleInfo;
  family: 4 | 6;
  fresh: Record<string, OptionValue>;
  listener?: Result;
  boundV6: boolean;
  tos: number;
  bf: BufferFacts;
  /** The classes the ranking left (set by compute before the verdicts). */
  tied?: Kind[];
  /** The verdicts or calls name the listener by placeholder (set by inheritedFromListener). */
  perListener?: boolean;
}

/** What kind k would read for an option with no application call: its JDK row, its listener's (accepted), the kernel's. */
function explained(f: Facts, k: Kind, name: string): OptionValue | undefined {
  const s = f.s;
  if (f.ri.role === 'accepted' && mappings().inherited.has(name)) {
    const l = f.ri.listener;
    if (l) {
      const lv = l.options[name]?.value;
      if (lv !== undefined && lv !== null) return lv;
    } else {
      const own = valueIn(k.row, name);
      if (own !== undefined) return own;
      const lv = valueIn(k.listener?.row, name);
      if (lv !== undefined) return lv;
      return f.fresh[name];
    }
  }
  void s;
  return valueIn(k.row, name) ?? f.fresh[name];
}

/** The option needs an application call under kind k. */
function needs(f: Facts, k: Kind, row: JavaOption, v: OptionValue): boolean {
  if (BUFFER.has(row.option) && (row.option === 'SO_RCVBUF' ? f.s.userLocks?.rcvbuf : f.s.userLocks?.sndbuf) === true && !(f.ri.role === 'accepted' && f.ri.listener)) return true;
  if (KEEPALIVE.has(row.option) && f.s.options[row.option]?.explicit === true && !(f.ri.role === 'accepted' && f.ri.listener?.options[row.option]?.explicit === true)) return true;
  return !same(v, explained(f, k, row.option));
}

/** The option is not one the kernel set by itself (IPV6_V6ONLY on a specific address, SO_PRIORITY from IP_TOS). */
function kernelSet(f: Facts, name: string, v: OptionValue): boolean {
  if (name === 'IPV6_V6ONLY') return v === 1 && f.boundV6;
  if (name === 'SO_PRIORITY') return f.tos !== 0 && v === tosToPriority(f.tos);
  return false;
}

/** Can kind k's code set this option (on itself, or, accepted from a listener since closed, on that listener)? */
function settable(f: Facts, k: Kind, row: JavaOption, v: OptionValue, ctx: Ctx): boolean {
  if (spell(row, k.group, k.api, v, ctx.facts) !== undefined) return true;
  return f.ri.role === 'accepted' && f.ri.listenerGone === true && k.listener !== undefined && mappings().inherited.has(row.option)
    && spell(row, 'server', k.listener.api, v, ctx.facts) !== undefined;
}

interface Ranked {
  /** Kinds that explain the socket with the same calls as the best, best first. */
  tied: Kind[];
  /** Other possible kinds, with the calls each needs instead. */
  others: { k: Kind; story: JavaOption[] }[];
  /** The options the tied kinds need calls for. */
  story: JavaOption[];
  /** Options the tied kinds' JDK defaults differ on (roles that do not fix the class). */
  differing?: Set<string>;
  note?: string;
}

/** Which classes can have made the socket, and with which calls. */
function rank(f: Facts, ctx: Ctx): Ranked {
  const kinds = kindsOf(ctx, f.ri.role, f.family);
  const rows = mappings().java.options;
  const s = f.s;
  const nb = s.nonBlocking?.value;
  const facts = ctx.facts;
  const anyRow = kinds.some((k) => k.row);
  const lclasses = f.listener?.classes;
  const excluded: string[] = [];
  const live: { k: Kind; cost: number; story: JavaOption[]; reverts: number; last: boolean }[] = [];
  for (const k of kinds) {
    if (anyRow && !k.row) continue; // this kind cannot make a socket of this family (AF_INET needs a channel opened INET)
    if (nb !== undefined && facts?.nonBlocking[k.api] && !facts.nonBlocking[k.api]!.has(nb)) { excluded.push(k.api); continue; }
    if (lclasses && k.listener && !lclasses.includes(k.listener.api)) continue; // its listener cannot be that class
    let cost = 0;
    const story: JavaOption[] = [];
    for (const row of rows) {
      if (NOT_A_CHOICE.has(row.option) && !(BUFFER.has(row.option) && bufferIsChoice(f, row.option))) continue;
      const v = s.options[row.option]?.value;
      if (v === undefined || v === null || kernelSet(f, row.option, v) || !needs(f, k, row, v)) continue;
      cost++;
      story.push(row);
      if (!settable(f, k, row, v, ctx) && kinds.some((o) => settable(f, o, row, v, ctx))) cost += PENALTY;
    }
    // No thread of the default asynchronous channel group: an asynchronous channel is the last guess.
    // Calls that only undo a JDK default (setBroadcast(false) on a MulticastSocket) are the rarer story at equal cost.
    const reverts = story.filter((r) => same(s.options[r.option]?.value as OptionValue, f.fresh[r.option])).length;
    live.push({ k, cost, story, reverts, last: ctx.asyncThreads === 0 && /Asynchronous/.test(k.api) });
  }
  if (!live.length) return { tied: [], others: [], story: [] };
  const min = Math.min(...live.map((x) => x.cost));
  const possible = min < PENALTY ? live.filter((x) => x.cost < PENALTY) : live;
  const order = [...possible].sort((a, b) => a.cost - b.cost || a.reverts - b.reverts || Number(a.last) - Number(b.last));
  const best = order[0]!;
  const key = (st: JavaOption[]) => st.map((r) => r.option).join(',');
  const bk = key(best.story);
  // Where the role does not fix the class (a never-connected socket: a client's or a never-bound listener's; a
  // UDP socket), kinds whose stories differ only in options their JDK defaults differ on (SO_REUSEADDR,
  // SO_BROADCAST) leave the kernel in the same state: one tie, across groups, those options said as such.
  const open = f.ri.role === 'unconnected' || f.ri.role === 'udp';
  const differing = open ? jdkDiffering(possible.map((x) => x.k), f.fresh) : undefined;
  const ukey = (st: JavaOption[]) => st.filter((r) => !differing!.has(r.option)).map((r) => r.option).join(',');
  // No thread of the default asynchronous channel group: an asynchronous channel (possible with a group of its own)
  // stays among the classes named, not among those the calls are spelled for.
  const tied = order.filter((x) => (open ? ukey(x.story) === ukey(best.story) : x.k.group === best.k.group && key(x.story) === bk) && (!x.last || best.last)).map((x) => x.k);
  const others = order.filter((x) => !tied.includes(x.k)).map((x) => ({ k: x.k, story: x.story }));
  const notes: string[] = [];
  if (nb === false && excluded.length) notes.push('its fd is blocking (no O_NONBLOCK): not an asynchronous channel, which is always non-blocking');
  else if (nb === true && excluded.length) notes.push(`its fd is non-blocking (O_NONBLOCK), which ${excluded.map(short).join(' and ')} never is on this JDK`);
  else if (nb === true && f.ri.role !== 'udp') notes.push('its fd is non-blocking (O_NONBLOCK): a channel in non-blocking mode, an asynchronous channel, or a java.net socket after a timed operation');
  if (ctx.asyncThreads === 0 && possible.some((x) => x.last)) notes.push('no thread of the default asynchronous channel group runs in this JVM: an asynchronous channel is unlikely (one with a channel group of its own is still possible)');
  return { tied, others, story: best.story, differing, note: notes.length ? notes.join('; ') : undefined };
}

function short(api: string): string {
  return api.slice(api.lastIndexOf('.') + 1);
}

/** The verdict and call for an option an accepted socket has as its (live) listener does. */
function inheritedFromListener(f: Facts, row: JavaOption, v: OptionValue, ctx: Ctx, java: JavaCall[]): OptionVerdict | undefined {
  const l = f.ri.listener!;
  const lr = f.listener;
  const lv = l.options[row.option]?.value;
  if (!lr || lv === undefined || lv === null || !same(v, lv)) return undefined;
  // A keepalive time stored on the socket where its listener stores none: set after accept, to the same value.
  if (KEEPALIVE.has(row.option) && f.s.options[row.option]?.explicit === true && l.options[row.option]?.explicit === false) return undefined;
  const lver = lr.verdicts[row.option];
  // One listener: named by placeholders (the result is shared by the sockets of every listener like it); a
  // SO_REUSEPORT group's candidates are in the signature, so are named as they are.
  const named = f.ri.candidates === undefined;
  if (named) f.perListener = true;
  const where = `inherited from listener fd ${named ? LISTENER_NAME : `${l.fd} (${formatEndpoint(l.local.address, l.local.port)})`}`;
  if (!lver || lver.origin !== 'application') {
    return { origin: lver?.origin === 'jdk-default' ? 'jdk-default' : lver?.origin ?? 'kernel-default', ...(lver?.confidence ? { confidence: lver.confidence } : {}), note: where, ...(lver?.evidence ? { evidence: lver.evidence } : {}) };
  }
  const from = named ? LISTENER_FROM : { fd: l.fd, local: l.local };
  const base = lr.calls.get(row.option);
  const c: JavaCall = base
    ? { ...base, origin: 'inherited', options: [row.option], from, note: `inherited from the listener: the call belongs on the listener${row.option === 'SO_RCVBUF' ? ' (before bind, for the window scale)' : ''}` }
    : { api: 'native', call: `${row.option}=${show(v)}`, origin: 'inherited', options: [row.option], from, note: `inherited from the listener, where ${row.listener ?? `no Java API sets it${row.native ? ` (${row.native})` : ''}`}` };
  if (base?.alternatives) delete c.alternatives;
  // Other listeners of a SO_REUSEPORT group that explain the socket as well: the call may be theirs.
  const alts: JavaCallAlternative[] = [];
  for (const o of f.ri.candidates ?? []) {
    if (o === l) continue;
    const or = ctx.listenerResults.get(o) as Result | undefined;
    const oc = or?.calls.get(row.option);
    if (oc && same(o.options[row.option]?.value as OptionValue, v)) alts.push({ api: oc.api, call: oc.call, origin: 'inherited', ...(oc.nio ? { nio: oc.nio } : {}), from: { fd: o.fd, local: o.local }, note: 'or inherited from this listener of the SO_REUSEPORT group' });
  }
  // The same value set on this socket after accept leaves the kernel's state the same.
  const own = f.tied?.length ? tiedCall(row, f.tied.map((k) => k.group), f.tied.map((k) => k.api), v, 'application', ctx.facts) : undefined;
  if (own && own.api !== 'native') alts.push({ api: own.api, call: own.call, origin: 'application', ...(own.nio ? { nio: own.nio } : {}), note: 'or set on this socket after accept, to the same value' });
  if (alts.length) c.alternatives = alts;
  java.push(c);
  return { origin: 'application', confidence: lver.confidence ?? 'certain', note: where, evidence: lver.evidence ?? 'value' };
}

/** A call for an option set on this socket, or on its listener before accept (closed since): the kernel state is the same. */
function eitherCall(f: Facts, row: JavaOption, v: OptionValue, tied: Kind[], ctx: Ctx, confidence: JavaCall['confidence'], evidence: Evidence, note: string): JavaCall | undefined {
  const own = tiedCall(row, tied.map((k) => k.group), tied.map((k) => k.api), v, 'application', ctx.facts);
  const lapis = [...new Set(tied.map((k) => k.listener?.api).filter((a): a is string => !!a))];
  const onListener = lapis.length && mappings().inherited.has(row.option) ? tiedCall(row, 'server', lapis, v, 'inherited', ctx.facts) : undefined;
  if (!own && !onListener) return undefined;
  // The listener first for what listeners are usually given (buffers, address reuse), the socket itself otherwise.
  const listenerFirst = onListener && (!own || /^SO_(RCVBUF|REUSEADDR|REUSEPORT)$/.test(row.option));
  const main = listenerFirst ? onListener! : own!;
  const alt = listenerFirst ? own : onListener;
  // Which listener: the one closed since, or (a live SO_REUSEPORT group) another listener of the group, closed since.
  const which = f.ri.listenerGone ? 'the listener is closed now' : 'a listener of its SO_REUSEPORT group, closed since';
  const c: JavaCall = { ...main, confidence, evidence, note: main === onListener ? `on the listener, before accept (${which})${alt ? '; or on this socket after accept: the kernel state is the same' : ''}: ${note}` : `${note}${alt ? `; or on its listener before accept (${which}): the kernel state is the same` : ''}` };
  if (alt) c.alternatives = [{ api: alt.api, call: alt.call, origin: alt.origin, ...(alt.nio ? { nio: alt.nio } : {}), note: alt === onListener ? 'on the listener before accept' : 'on this socket after accept' }];
  return c;
}

/** The analysis of one signature. */
function compute(f: Facts, ctx: Ctx): Result {
  const s = f.s, ri = f.ri, r = ri.role;
  const rows = mappings().java.options;
  const facts = ctx.facts;
  for (let i = 0; i < rows.length; i++) verdictScratch[i] = undefined;
  const rk = rank(f, ctx);
  const tied = rk.tied;
  f.tied = tied;
  const best = tied[0];
  const group = best?.group ?? mappings().kinds[r].group;
  const classes = tied.map((k) => k.api);
  const groups = tied.map((k) => k.group);
  // An accepted socket of a SO_REUSEPORT group: a value its listener does not explain may come from another
  // listener of the group closed since (the kernel keeps no record of which listener accepted it).
  const reuseGroup = r === 'accepted' && !ri.listenerGone && ri.listener?.options.SO_REUSEPORT?.value === 1;
  const hints: string[] = [];
  const unknown: string[] = [];
  const java: JavaCall[] = [];
  const calls = new Map<string, JavaCall>();
  const push = (c: JavaCall) => { java.push(c); for (const o of c.options) if (!calls.has(o)) calls.set(o, c); };
  const inStory = new Set(rk.story.map((x) => x.option));
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const reading = s.options[row.option];
    if (!reading) continue;
    if (reading.value === null) { unknown.push(row.option); continue; }
    const v = reading.value;
    const sd = systemDefault(ctx, row.option, s, v);
    let verdict: OptionVerdict;
    if (row.option === 'TCP_MAXSEG' && reading.explicit === true) {
      verdict = { origin: 'application', confidence: 'certain', evidence: 'kernel-flag', note: 'the kernel keeps a user MSS (tp->rx_opt.user_mss): TCP_MAXSEG was set; certain (kernel flag)' };
      push({ api: 'native', call: `TCP_MAXSEG=${show(v)}`, origin: 'application', options: [row.option], confidence: 'certain', evidence: 'kernel-flag', note: `no Java API: ${row.native ?? 'JNI'}` });
    } else if (row.dynamic) {
      verdict = dynamicVerdict(ctx, row);
    } else if (row.option === 'backlog') {
      const n = Number(v);
      const jdkDefault = best?.row?.backlog ?? 50;
      const bc = tiedCall(row, 'server', classes.length ? classes : ['java.net.ServerSocket'], v, n === jdkDefault ? 'jdk-default' : 'application', facts);
      if (n === jdkDefault) {
        verdict = { origin: 'jdk-default', note: `equal to the JDK's default (${jdkDefault}): whether the code passed ${jdkDefault} or nothing, the kernel cannot tell` };
        const first = classes[0] ?? 'java.net.ServerSocket';
        const c: JavaCall = { api: first, call: first === 'java.net.ServerSocket' ? 'new ServerSocket(port) / bind(addr)' : 'bind(addr)', origin: 'jdk-default', options: ['backlog'], note: `no backlog given (or 0): the JDK asks listen() for ${jdkDefault}` };
        const nioCls = classes.find((c2) => c2 !== first);
        if (nioCls) c.nio = `${nioCls}.bind(addr)`;
        push(c);
      } else {
        verdict = { origin: 'application', confidence: 'certain', evidence: 'value' };
        if (bc) push(bc);
      }
    } else if (kernelSet(f, row.option, v)) {
      verdict = row.option === 'IPV6_V6ONLY'
        ? { origin: 'kernel-default', note: 'the kernel sets IPV6_V6ONLY when a socket binds to a specific IPv6 address (not :: or ::ffff:*)' }
        : { origin: 'kernel-default', note: `set by the kernel from IP_TOS 0x${f.tos.toString(16)} (rt_tos2priority), not by a call of its own` };
    } else if (row.option === 'SO_RCVBUF' || row.option === 'SO_SNDBUF') {
      const spelled = best ? tiedCall(row, groups, classes, v, 'application', facts) : undefined;
      const j = judgeBuffer(row.option, Number(v), s, ri, f.bf, f.fresh[row.option] as number | undefined, ctx, spelled && spelled.api !== 'native' ? spelled.call : undefined);
      verdict = j.verdict;
      if (verdict.origin === 'application') {
        const inh = j.place === 'listener' && ri.listener ? inheritedFromListener(f, row, v, ctx, java) : undefined;
        if (inh) { verdict = { ...inh, confidence: verdict.confidence, evidence: verdict.evidence, note: `${verdict.note}; ${inh.note}` }; calls.set(row.option, java[java.length - 1]!); }
        else if (j.place === 'either' || (j.place === 'socket' && reuseGroup && ctx.inherited.has(row.option))) {
          const c = eitherCall(f, row, v, tied, ctx, verdict.confidence, verdict.evidence ?? 'value', verdict.note ?? '');
          if (c) push(c); else push(nativeCall(row, v, r, 'application'));
        } else if (spelled) push({ ...spelled, confidence: verdict.confidence, evidence: verdict.evidence, note: verdict.note });
        else push(nativeCall(row, v, r, 'application'));
      }
    } else if (rk.differing?.has(row.option) && tied.length > 1 && (verdict = jdkTie(f, row, v, tied, push, facts)!) !== undefined) {
      // verdict and call set by jdkTie
    } else if (r === 'accepted' && ri.listener && ctx.inherited.has(row.option) && f.listener && (verdict = inheritedFromListener(f, row, v, ctx, java)!) !== undefined) {
      if (verdict.origin === 'application') calls.set(row.option, java[java.length - 1]!);
    } else {
      verdict = ownVerdict(f, row, v, best, sd, inStory.has(row.option));
      if (verdict.origin === 'application' || verdict.origin === 'jdk-default') {
        const origin = verdict.origin;
        const gone = r === 'accepted' && (ri.listenerGone || reuseGroup) && ctx.inherited.has(row.option) && origin === 'application';
        const c = gone ? eitherCall(f, row, v, tied, ctx, verdict.confidence ?? 'certain', verdict.evidence ?? 'value', verdict.note ?? 'not what a listener of this kind and the JDK leave on an accepted socket')
          : best ? tiedCall(row, groups, classes, v, origin, facts) : undefined;
        if (c) {
          if (!gone) {
            if (origin === 'jdk-default') c.note = `the JDK sets this on every new ${best!.kind}${best!.row ? ` (${best!.row.source})` : ''}`;
            // Inherited from the JDK's default on a listener closed since: the same call on this socket after accept looks the same.
            if (origin === 'jdk-default' && r === 'accepted' && ri.listenerGone && ctx.inherited.has(row.option)) {
              const own = tiedCall(row, groups, classes, v, 'application', facts);
              if (own) { c.alternatives = [{ api: own.api, call: own.call, origin: 'application', ...(own.nio ? { nio: own.nio } : {}), note: 'or set on this socket after accept (its listener, closed now, may have had another value)' }]; c.note = `the JDK sets this on every new listener of this kind, and accept() copies it${best!.row ? ` (${best!.row.source})` : ''}`; }
            }
            else { if (verdict.note) c.note = verdict.note; c.confidence = verdict.confidence; c.evidence = verdict.evidence; }
            if (r === 'listening' && !row.java.server && row.listener) c.note = row.listener;
          }
          push(c);
        } else if (origin === 'application') {
          push(nativeCall(row, v, r, origin, verdict));
        }
      }
    }
    verdictScratch[i] = ctx.verdictCache ? shared(ctx.verdictCache, ordered(verdict, sd)) : ordered(verdict, sd);
  }
  // Other classes that could have made the same socket with other calls: said, not picked silently.
  for (const o of rk.others) {
    const story = o.story.map((row) => spell(row, o.k.group, o.k.api, s.options[row.option]!.value!, facts) ?? `${row.option}=${show(s.options[row.option]!.value!)}`);
    if (story.length) hints.push(`or a ${o.k.api} on which the application called ${story.join(', ')}: both leave this socket as it is`);
  }
  frameworkHints(s, r, ctx.sysctl, hints);
  const verdicts = verdictsObject(rows);
  const apis = [...new Set([...classes, ...rk.others.map((o) => o.k.api)])];
  return {
    id: ctx.resultCount++, role: r, roleConfidence: ri.confidence,
    apis: apis.length ? apis : mappings().kinds[r].kinds.map((k) => k.api),
    java: merge(java), verdicts, unobservable: mappings().unobservable[r], hints, unknown: unknown.length ? unknown : EMPTY,
    classNote: rk.note, perListener: f.perListener === true, nonBlockingHints: undefined, calls, classes: apis,
  };
}

/** Options on which the kinds' JDK defaults (or the kernel's, for a kind whose JDK sets none) differ. */
function jdkDiffering(kinds: Kind[], fresh: Record<string, OptionValue>): Set<string> {
  const out = new Set<string>();
  const names = new Set(kinds.flatMap((k) => Object.keys(k.row?.options ?? {})));
  for (const n of names) {
    const vals = kinds.map((k) => valueIn(k.row, n) ?? fresh[n]);
    if (vals.some((x) => !same(x as OptionValue, vals[0] as OptionValue))) out.add(n);
  }
  return out;
}

/**
 * An option the tied kinds' JDK defaults differ on (SO_REUSEADDR: a ServerSocket's and a
 * MulticastSocket's JDK sets it; SO_BROADCAST: a DatagramSocket's): the JDK's on one kind, or
 * the code's on another; the kernel's on one, or undone by the code on another. The kernel
 * cannot tell: both are named. undefined where every tied kind explains the value, or none does.
 */
function jdkTie(f: Facts, row: JavaOption, v: OptionValue, tied: Kind[], push: (c: JavaCall) => void, facts: Ctx['facts']): OptionVerdict | undefined {
  const freshV = f.fresh[row.option];
  const own = (k: Kind) => valueIn(k.row, row.option) ?? freshV;
  const plain = tied.filter((k) => same(own(k) as OptionValue, v));
  const needCall = tied.filter((k) => !same(own(k) as OptionValue, v));
  if (!plain.length || !needCall.length) return undefined;
  const byJdk = plain.filter((k) => !same(own(k) as OptionValue, freshV as OptionValue));
  const p0 = short(plain[0]!.api), n0 = short(needCall[0]!.api);
  const app = tiedCall(row, needCall.map((k) => k.group), needCall.map((k) => k.api), v, 'application', facts);
  if (byJdk.length) {
    const note = `the JDK's on every new ${short(byJdk[0]!.api)}, or set by the code on a ${n0}: the kernel cannot tell which`;
    const c = tiedCall(row, byJdk.map((k) => k.group), byJdk.map((k) => k.api), v, 'jdk-default', facts);
    if (c) {
      c.note = note;
      if (app) c.alternatives = [{ api: app.api, call: app.call, origin: 'application', ...(app.nio ? { nio: app.nio } : {}) }];
      push(c);
    }
    return { origin: 'jdk-default', confidence: 'uncertain', evidence: 'value', note };
  }
  return { origin: 'kernel-default', confidence: 'uncertain', evidence: 'value', note: `as a new ${p0} has it, or a ${n0} on which the code called ${app ? app.call : `${row.option}=${show(v)}`}: the kernel cannot tell which` };
}

/** A verdict with its fields in the report's order (origin, confidence, systemDefault, note, evidence). */
function ordered(v: OptionVerdict, sd: string | undefined): OptionVerdict {
  const o: OptionVerdict = { origin: v.origin };
  if (v.confidence) o.confidence = v.confidence;
  const s2 = sd ?? v.systemDefault;
  if (s2) o.systemDefault = s2;
  if (v.note) o.note = v.note;
  if (v.evidence) o.evidence = v.evidence;
  return o;
}

function nativeCall(row: JavaOption, v: OptionValue, r: Role, origin: JavaCall['origin'], verdict?: OptionVerdict): JavaCall {
  const note = r === 'listening' && row.listener ? row.listener : `no Java API: ${row.native ?? 'set by native code'}`;
  const c: JavaCall = { api: 'native', call: `${row.option}=${show(v)}`, origin, options: [row.option], note };
  if (verdict?.confidence) c.confidence = verdict.confidence;
  if (verdict?.evidence) c.evidence = verdict.evidence;
  return c;
}

/** An option of the socket's own (not a buffer, not inherited): default, JDK default, or the application's, and how sure. */
function ownVerdict(f: Facts, row: JavaOption, v: OptionValue, best: Kind | undefined, sd: string | undefined, needed: boolean): OptionVerdict {
  const reading = f.s.options[row.option]!;
  const name = row.option;
  if (KEEPALIVE.has(name) || name === 'TCP_CONGESTION') {
    if (reading.explicit === true) {
      return { origin: 'application', confidence: 'certain', evidence: name === 'TCP_CONGESTION' ? 'kernel-flag' : 'stored-value',
        note: name === 'TCP_CONGESTION' ? 'set by setsockopt (icsk_ca_setsockopt): certain (kernel flag)' : `stored on the socket${sd ? `, though equal to ${sd}` : ''}: set by a call; certain (the kernel stores 0 for "follow the sysctl")` };
    }
    if (reading.explicit === false) {
      return { origin: 'kernel-default', confidence: 'certain', evidence: name === 'TCP_CONGESTION' ? 'kernel-flag' : 'stored-value', note: name === 'TCP_CONGESTION' ? 'not set by setsockopt (icsk_ca_setsockopt clear): the host\'s or the route\'s' : 'not stored on the socket (0): it follows the sysctl' };
    }
  }
  const exp = best ? explained(f, best, name) : f.fresh[name];
  if (!needed && same(v, exp)) {
    const fromJdk = best ? jdkSets(f, best, name) : false;
    if (fromJdk) return { origin: 'jdk-default' };
    if (KEEPALIVE.has(name) && sd) return { origin: 'kernel-default', confidence: 'uncertain', evidence: 'value', note: `equal to ${sd}: whether the code set it, the kernel cannot tell (the bpf source reads whether it is stored)` };
    if ((name === 'TCP_USER_TIMEOUT' || name === 'TCP_NOTSENT_LOWAT') && Number(v) !== 0) return { origin: 'kernel-default', confidence: 'uncertain', evidence: 'value', note: 'equal to the default: whether the code set it, the kernel cannot tell' };
    return { origin: 'kernel-default' };
  }
  if (exp === undefined) return { origin: 'unknown', note: 'no default known for this kind of socket' };
  if (name === 'TCP_CONGESTION') return { origin: 'application', confidence: 'likely', evidence: 'value', note: 'not the host\'s default (a route\'s congctl would look the same)' };
  return { origin: 'application', confidence: 'certain', evidence: 'value' };
}

/** The JDK set this value on kind k's socket (or, accepted, on its listener), where it differs from the kernel's. */
function jdkSets(f: Facts, k: Kind, name: string): boolean {
  const own = valueIn(k.row, name);
  if (own !== undefined) return !same(own, f.fresh[name]);
  if (f.ri.role === 'accepted' && f.ri.listenerGone && mappings().inherited.has(name)) {
    const lv = valueIn(k.listener?.row, name);
    return lv !== undefined && !same(lv, f.fresh[name]);
  }
  return false;
}

// ---- signatures -------------------------------------------------------------

/**
 * Every input the analysis of s reads beyond the capture's (ctx): its role facts (the listener by its
 * result, which is its signature's), protocol, state, option values and what the kernel says of them,
 * buffer locks, tcp_info's buffer facts, the fd's O_NONBLOCK. Equal inputs (sameInputs), equal results.
 */
interface Inputs {
  s: RawSocket;
  ri: RoleInfo;
  lres: Result | undefined;
  bf: BufferFacts;
  boundV6: boolean;
  res: Result;
}

const mix = (h: number, x: number): number => Math.imul(h ^ x, 0x01000193);

/** A hash of the inputs that differ most between sockets, without building a string: sameInputs decides. */
function inputHash(s: RawSocket, ri: RoleInfo, lres: Result | undefined): number {
  let h = mix(mix(0x811c9dc5, ri.role.charCodeAt(0) + ri.role.length * 128), lres ? lres.id : -1);
  h = mix(h, s.state.charCodeAt(0) + s.state.length * 128);
  const o = s.options;
  for (const n in o) {
    const v = o[n]!.value;
    h = mix(h, typeof v === 'number' ? v | 0 : typeof v === 'string' ? v.length : v === null ? -2 : v.seconds);
  }
  return h;
}

function sameValue(a: OptionValue | null, b: OptionValue | null): boolean {
  return a === b || (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && a.enabled === b.enabled && a.seconds === b.seconds);
}

/**
 * The role facts the analysis reads: not the note (each socket's own, per socket), nor which listener
 * (named by placeholders) but for a SO_REUSEPORT group's candidates, which are named as they are.
 */
function sameRole(a: RoleInfo, b: RoleInfo): boolean {
  if (a === b) return true;
  if (a.role !== b.role || a.confidence !== b.confidence || !a.listenerGone !== !b.listenerGone) return false;
  const x = a.candidates, y = b.candidates;
  if (x === undefined || y === undefined) return x === y;
  if (a.listener !== b.listener || x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function sameInputs(e: Inputs, s: RawSocket, ri: RoleInfo, lres: Result | undefined, bf: BufferFacts, boundV6: boolean): boolean {
  const t = e.s;
  if (e.lres !== lres || e.boundV6 !== boundV6 || t.protocol !== s.protocol || t.state !== s.state || !sameRole(e.ri, ri)) return false;
  if (t.nonBlocking?.value !== s.nonBlocking?.value) return false;
  const u = t.userLocks, w = s.userLocks;
  if (u !== w && (u === undefined || w === undefined || u.rcvbuf !== w.rcvbuf || u.sndbuf !== w.sndbuf || u.source !== w.source)) return false;
  const c = e.bf;
  if (c.info !== bf.info || c.cwnd !== bf.cwnd || c.grew !== bf.grew || c.nothingReceived !== bf.nothingReceived) return false;
  // perSegmentSizes hands out one array per MSS: the same array, the same sizes.
  if (c.perSegment !== bf.perSegment) {
    if (c.perSegment.length !== bf.perSegment.length) return false;
    for (let i = 0; i < bf.perSegment.length; i++) if (c.perSegment[i] !== bf.perSegment[i]) return false;
  }
  // The same options with the same readings (their order is read nowhere: rows go in mapping order).
  const o = s.options, p = t.options;
  if (o === p) return true; // the bpf source gives sockets of equal options one object
  let n = 0;
  for (const k in o) {
    const x = o[k]!, y = p[k];
    if (x !== y && (y === undefined || x.explicit !== y.explicit || !sameValue(x.value, y.value))) return false;
    n++;
  }
  for (const _k in p) n--;
  return n === 0;
}

function factsOf(s: RawSocket, ri: RoleInfo, ctx: Ctx, bf: BufferFacts, boundV6: boolean): Facts {
  return {
    s, ri, family: s.protocol.endsWith('6') ? 6 : 4, fresh: freshFor(ctx, s.protocol), boundV6,
    tos: Number(s.options.IP_TOS?.value ?? 0),
    bf,
  };
}

/** Each socket's buffer facts land here; a signature's first socket keeps a copy. */
const bfScratch: BufferFacts = { perSegment: [], cwnd: 0, grew: undefined, nothingReceived: undefined, info: false };

/** The shared result for s: computed once per signature (a listener's first, for the sockets it accepted). */
function resultFor(s: RawSocket, ri: RoleInfo, ctx: Ctx): Result {
  let lres: Result | undefined;
  if (ri.role === 'accepted') {
    if (ri.listener) lres = listenerResult(ri.listener, ctx);
    if (ri.candidates) for (const c of ri.candidates) listenerResult(c, ctx);
  }
  const bf = bufferFacts(s, ri.role === 'connected', bfScratch);
  const v6 = s.options.IPV6_V6ONLY?.value;
  const boundV6 = v6 === 1 && boundToIPv6(s, ri.role === 'accepted' ? ri.listener : undefined);
  const h = inputHash(s, ri, lres);
  const bucket = ctx.results.get(h) as Inputs[] | undefined;
  let res: Result | undefined;
  if (bucket) for (const e of bucket) if (sameInputs(e, s, ri, lres, bf, boundV6)) { res = e.res; break; }
  if (!res) {
    const kept: BufferFacts = { perSegment: bf.perSegment, cwnd: bf.cwnd, grew: bf.grew, nothingReceived: bf.nothingReceived, info: bf.info };
    const f = factsOf(s, ri, ctx, kept, boundV6);
    f.listener = lres;
    res = compute(f, ctx);
    const e: Inputs = { s, ri, lres, bf: kept, boundV6, res };
    if (bucket) bucket.push(e); else ctx.results.set(h, [e]);
  }
  if (ri.role === 'listening') ctx.listenerResults.set(s, res);
  return res;
}

function listenerResult(l: RawSocket, ctx: Ctx): Result {
  return (ctx.listenerResults.get(l) as Result | undefined) ?? resultFor(l, roleOf(l, ctx), ctx);
}

/** A result whose verdicts and calls name the listener by placeholder, made whole for listener l (once per listener). */
function forListener(res: Result, l: RawSocket, ctx: Ctx): Result {
  let byListener = ctx.perListener.get(res) as Map<RawSocket, Result> | undefined;
  if (!byListener) ctx.perListener.set(res, (byListener = new Map()));
  let out = byListener.get(l);
  if (out) return out;
  const name = `${l.fd} (${formatEndpoint(l.local.address, l.local.port)})`;
  const verdicts = { ...res.verdicts };
  // The template it was made from, for a renderer that writes the template once per report (render/json.ts).
  const link: ListenerTemplate = { template: res.verdicts, placeholder: LISTENER_NAME, name };
  Object.defineProperty(verdicts, LISTENER_TEMPLATE, { value: link });
  for (const k in verdicts) {
    const v = verdicts[k]!;
    if (v.note === undefined || !v.note.includes(LISTENER_NAME)) continue;
    // One object per template verdict and listener, whichever results share them (the renderer writes it once).
    let byL = ctx.listenerVerdicts.get(v);
    if (!byL) ctx.listenerVerdicts.set(v, (byL = new Map()));
    let w = byL.get(l);
    if (!w) {
      // Built as compute builds its verdicts (ordered): one object shape for the renderer.
      w = ordered(v, undefined);
      w.note = v.note.replaceAll(LISTENER_NAME, name);
      byL.set(l, w);
    }
    verdicts[k] = w;
  }
  const from = { fd: l.fd, local: l.local };
  const java = res.java.map((c) => {
    if (c.from !== LISTENER_FROM) return c;
    const d = Object.assign({}, c);
    d.from = from;
    return d;
  });
  out = { ...res, verdicts, java, perListener: false, nonBlockingHints: undefined };
  byListener.set(l, out);
  return out;
}

/** A listener as the report names it: one object per listener. */
function listenerRef(l: RawSocket, ctx: Ctx): NonNullable<ReportSocket['listener']> {
  let r = ctx.listenerRefs.get(l);
  if (!r) ctx.listenerRefs.set(l, (r = { fd: l.fd, inode: l.inode, local: l.local }));
  return r;
}

function analyzeSocket(s: RawSocket, ctx: Ctx): ReportSocket {
  const ri = roleOf(s, ctx);
  let res = resultFor(s, ri, ctx);
  if (res.perListener) res = forListener(res, ri.listener!, ctx);
  // The RawSocket's fields in its own order, then the analysis: what {...s, role, ...} makes, without
  // the spread (V8 builds a spread-then-extended literal on a slow path that tenures every copy).
  const out = Object.assign({}, s) as ReportSocket;
  out.role = res.role;
  out.roleConfidence = res.roleConfidence;
  out.roleNote = ri.note;
  out.apis = res.apis;
  out.java = res.java;
  out.verdicts = res.verdicts;
  out.unobservable = res.unobservable;
  out.hints = res.hints;
  // The hint points to --observe: not where the observation saw this socket's reads (per socket: not part of the signature).
  // It reads of the socket only O_NONBLOCK (set: nonBlockingHint gives nothing otherwise): once per result.
  if (s.nonBlocking?.value === true && !(s.observed && s.observed.reads > 0)) {
    let hints = res.nonBlockingHints;
    if (hints === undefined) {
      const h = nonBlockingHint(s, res.role, res.apis, ctx.capture.process.jvm, ctx.capture.notObserved !== undefined);
      res.nonBlockingHints = hints = h ? [...res.hints, h] : res.hints;
    }
    out.hints = hints;
  }
  out.unknown = res.unknown;
  out.listener = ri.listener ? listenerRef(ri.listener, ctx) : undefined;
  out.listenerCandidates = ri.candidates?.map((c) => listenerRef(c, ctx));
  out.classNote = res.classNote;
  return out;
}

/**
 * The report's sockets one at a time, for renderers that stream (JSON): each
 * ReportSocket can be dropped once written, so a 50,000-socket report is not
 * held in memory next to its capture. Same sockets, same order as analyze().
 */
export function* analyzeSockets(capture: Capture): Generator<ReportSocket> {
  const ctx = context(capture);
  for (const s of capture.sockets) yield analyzeSocket(s, ctx);
}

/** Which JDK defaults table applies to the capture, and why. */
function defaultsOf(capture: Capture): Report['defaults'] {
  const jvm = capture.process.jvm;
  const verified = [...new Set(mappings().jdk.map((r) => r.jdk))].join(', ') || 'none';
  let note: string | undefined;
  if (capture.jdkDefaults) note = `JDK defaults measured from the target's own JDK: ${capture.jdkDefaults.source}`;
  else if (!jvm) note = 'not a JVM: Java calls are what a JVM would have needed';
  else if (jvm.feature === undefined) note = `JDK version unknown: defaults as verified on JDK ${verified}`;
  else if (!mappings().jdk.some((r) => covers(r.jdk, jvm.feature))) note = `target runs JDK ${jvm.version}; defaults verified on JDK ${verified} only: origins may be off (--probe-jdk measures them from the target's JDK)`;
  return { jdk: jvm?.version ?? 'unknown', note };
}

/** The whole report: sockets analysed at once, equal verdicts shared between them. */
export function analyze(capture: Capture): Report {
  const ctx = context(capture);
  return {
    ...capture,
    sockets: capture.sockets.map((s) => analyzeSocket(s, ctx)),
    defaults: defaultsOf(capture),
  };
}

/** The report with its sockets analysed as they are read (analyzeSockets): for renderers that stream. */
export function analyzeStream(capture: Capture): ReportStream {
  return { ...capture, sockets: analyzeSockets(capture), socketCount: capture.sockets.length, defaults: defaultsOf(capture) };
}
