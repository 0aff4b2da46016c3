// Capture -> Report: classify each socket by role, compare every option with
// what a fresh socket of that kind has (kernel default, plus what the JDK sets
// by itself), and write the differences back as the Java calls that make them.
import { mappings, type JavaOption, type JdkDefaultRow } from '../mappings.js';
import { formatEndpoint } from '../model/addr.js';
import type {
  Capture, JavaCall, OptionValue, OptionVerdict, Protocol, RawSocket, Report, ReportSocket, ReportStream, Role, Unobservable,
} from '../model/types.js';

type Group = 'socket' | 'server' | 'datagram';

/** Kernel defaults when a capture carries none (snapshots from a host without IPv6, say). */
const BUILTIN_DEFAULTS: Record<string, OptionValue> = {
  SO_REUSEADDR: 0, SO_REUSEPORT: 0, SO_KEEPALIVE: 0, TCP_USER_TIMEOUT: 0, SO_RCVTIMEO: 0, SO_SNDTIMEO: 0,
  SO_LINGER: { enabled: false, seconds: 0 }, TCP_NODELAY: 0, TCP_FASTOPEN: 0, TCP_DEFER_ACCEPT: 0,
  SO_BROADCAST: 0, SO_OOBINLINE: 0, IP_TOS: 0, IPV6_TCLASS: 0, IPV6_V6ONLY: 0, TCP_NOTSENT_LOWAT: 0,
  SO_PRIORITY: 0, SO_MARK: 0, IP_MULTICAST_TTL: 1, IPV6_MULTICAST_HOPS: 1, IP_MULTICAST_LOOP: 1, IPV6_MULTICAST_LOOP: 1,
};

/** Options an accepted socket copies from its listener (sk_clone_lock, inet_csk_clone_lock). */
const INHERITED = new Set([
  'SO_KEEPALIVE', 'TCP_NODELAY', 'SO_LINGER', 'SO_RCVBUF', 'SO_SNDBUF', 'SO_REUSEADDR', 'SO_REUSEPORT', 'SO_PRIORITY', 'SO_MARK',
  'IP_TOS', 'IPV6_TCLASS', 'TCP_KEEPIDLE', 'TCP_KEEPINTVL', 'TCP_KEEPCNT', 'TCP_USER_TIMEOUT', 'TCP_CONGESTION',
  'TCP_NOTSENT_LOWAT', 'SO_OOBINLINE', 'SO_RCVTIMEO', 'SO_SNDTIMEO', 'IPV6_V6ONLY',
]);

const KINDS: Record<Role, { group: Group; kinds: { kind: string; api: string }[] }> = {
  listening: { group: 'server', kinds: [{ kind: 'ServerSocket', api: 'java.net.ServerSocket' }, { kind: 'ServerSocketChannel', api: 'java.nio.channels.ServerSocketChannel' }] },
  connected: { group: 'socket', kinds: [{ kind: 'Socket', api: 'java.net.Socket' }, { kind: 'SocketChannel', api: 'java.nio.channels.SocketChannel' }] },
  accepted: { group: 'socket', kinds: [{ kind: 'accepted Socket', api: 'java.net.Socket' }, { kind: 'accepted SocketChannel', api: 'java.nio.channels.SocketChannel' }] },
  udp: { group: 'datagram', kinds: [
    { kind: 'DatagramSocket', api: 'java.net.DatagramSocket' },
    { kind: 'MulticastSocket', api: 'java.net.MulticastSocket' },
    { kind: 'DatagramChannel', api: 'java.nio.channels.DatagramChannel' },
  ] },
};

export const UNOBSERVABLE: Record<Role, Unobservable[]> = (() => {
  const timeout = (cls: string, what: string, seeInstead: string): Unobservable => ({
    api: cls,
    call: 'setSoTimeout',
    reason: `the JDK keeps the timeout in the ${cls} object and passes it to poll() on each ${what}; no socket option holds it, so no source can read it`,
    seeInstead,
  });
  const heap = (impl: string) => `the code or configuration that creates the socket; a heap dump shows it in the ${impl}'s timeout field`;
  const perf: Unobservable = {
    call: 'setPerformancePreferences',
    reason: 'the JDK ignores it on Linux: it sets nothing on the socket',
  };
  return {
    connected: [timeout('java.net.Socket', 'read', 'a JFR recording: jdk.SocketRead events carry the timeout of each read'), perf],
    accepted: [timeout('java.net.Socket', 'read', 'a JFR recording: jdk.SocketRead events carry the timeout of each read'), perf],
    listening: [timeout('java.net.ServerSocket', 'accept', heap('sun.nio.ch.NioSocketImpl')), perf],
    udp: [timeout('java.net.DatagramSocket', 'receive', heap('DatagramSocket (sun.nio.ch.DatagramSocketAdaptor)'))],
  };
})();

function same(a: OptionValue | undefined, b: OptionValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (typeof a === 'object' && typeof b === 'object') return a.enabled === b.enabled && (!a.enabled || a.seconds === b.seconds);
  return a === b;
}

function show(v: OptionValue): string {
  return typeof v === 'object' ? (v.enabled ? `on, ${v.seconds}s` : 'off') : String(v);
}

/** The Java argument for a kernel value. */
export function javaArg(row: JavaOption, v: OptionValue, nio: boolean): string {
  if (typeof v === 'object') return nio ? String(v.enabled ? v.seconds : -1) : `${v.enabled}, ${v.enabled ? v.seconds : 0}`;
  switch (row.value) {
    case 'bool': return v ? 'true' : 'false';
    case 'notbool': return v ? 'false' : 'true';
    case 'half': return String(Math.floor(Number(v) / 2));
    case 'hex': return `0x${Number(v).toString(16).padStart(2, '0')}`;
    default: return String(v);
  }
}

/** The JDK-defaults rows for a kind and family that cover the target's JDK (or any version, noted). */
function jdkRow(table: JdkDefaultRow[], kind: string, family: 4 | 6, feature: number | undefined, v4stack: boolean): JdkDefaultRow | undefined {
  const rows = table.filter((r) => r.kind === kind && famOf(r.family) === family && !!r.preferIPv4Stack === v4stack);
  return rows.find((r) => covers(r.jdk, feature)) ?? rows[0];
}

function famOf(f: string): 4 | 6 {
  return /6/.test(String(f)) ? 6 : 4;
}

/** "17", "17-21", ">=17": does it cover the feature release? */
export function covers(range: string, feature: number | undefined): boolean {
  if (feature === undefined) return false;
  const r = String(range).trim();
  let m: RegExpExecArray | null;
  if ((m = /^>=\s*(\d+)$/.exec(r))) return feature >= Number(m[1]);
  if ((m = /^(\d+)\s*-\s*(\d+)$/.exec(r))) return feature >= Number(m[1]) && feature <= Number(m[2]);
  return r.split(/[ ,]+/).some((x) => Number(x) === feature);
}

function parseTriple(s: string | undefined): number[] {
  return (s ?? '').split(/\s+/).map(Number).filter((n) => Number.isFinite(n));
}

/** A kind of Java socket that could have made a socket of some role and family, with its JDK-defaults row. */
interface KindRow {
  kind: string;
  api: string;
  row: JdkDefaultRow | undefined;
}

/** Per (role, family): the kinds, and what is known about them before any socket is seen. */
interface RoleFamily {
  kinds: KindRow[];
  /** Some kind has a JDK row: a kind without one cannot have made the socket. */
  anyRow: boolean;
  /** apis by the bit set of kinds that tie for best: one shared, read-only array per set. */
  apis: (string[] | undefined)[];
  /** [best][alt]: rows an "or a <alt> on which ..." hint can name (the two kinds' defaults differ). */
  altRows: (JavaOption[] | undefined)[][];
}

/** A sysctl a value may equal: the text (as a number too) and what the report says when it does. */
interface SysDefault {
  want: string;
  wantNum: number;
  text: string;
}

interface Ctx {
  capture: Capture;
  sysctl: Record<string, string>;
  feature?: number;
  v4stack: boolean;
  listeners: RawSocket[];
  /** listeners by local port: role() looks up, not scans (50,000-socket JVMs). */
  listenersByPort: Map<number, RawSocket[]>;
  /** per-capture caches: jdkRow by kind/family, kernel defaults by protocol, kinds by role and family. */
  rowCache: Map<string, JdkDefaultRow | undefined>;
  freshCache: Map<string, Record<string, OptionValue>>;
  roleFamily: Map<string, RoleFamily>;
  /** systemDefault() answers, per option, for TCP and for UDP sockets. */
  sysTcp: Map<string, SysDefault>;
  sysUdp: Map<string, SysDefault>;
  /** net.core.rmem_max / wmem_max, parsed once. */
  rmemMax: number | undefined;
  wmemMax: number | undefined;
  /**
   * Verdicts that depend only on their inputs are one read-only object each (a 50,000-socket
   * report has ~60 distinct ones among ~26 per socket): built once, not once per socket.
   */
  verdictOf: Map<string, OptionVerdict>;
  dynamicVerdicts: Map<JavaOption, OptionVerdict>;
  /** Every verdict above: one object for many sockets, never changed. */
  sharedVerdicts: Set<OptionVerdict>;
  /** Buffer verdicts without a lock flag, by option, protocol and listener-or-not, then by value. */
  bufferVerdicts: Map<string, Map<number, OptionVerdict>>;
  /** The same verdict with a systemDefault added, by verdict and sysctl text. */
  withSd: Map<OptionVerdict, Map<string, OptionVerdict>>;
  /** Equal verdicts shared between the sockets of a report held whole (~60 distinct among 26 per socket); not when streaming. */
  verdictCache?: Map<string, OptionVerdict>;
  /** JDK-defaults rows in force: measured (--probe-jdk) or from mappings/. */
  jdk: JdkDefaultRow[];
}

function role(s: RawSocket, listeners: RawSocket[] | undefined): { role: Role; listener?: RawSocket } {
  if (s.protocol.startsWith('udp')) return ROLE_UDP;
  if (s.state === 'LISTEN') return ROLE_LISTENING;
  if (listeners) {
    for (const l of listeners) {
      if (l.local.port === s.local.port && l.protocol === s.protocol &&
        (l.local.address === s.local.address || l.local.address === '0.0.0.0' || l.local.address === '::')) return { role: 'accepted', listener: l };
    }
  }
  return ROLE_CONNECTED;
}
const ROLE_UDP = { role: 'udp' as Role }, ROLE_LISTENING = { role: 'listening' as Role }, ROLE_CONNECTED = { role: 'connected' as Role };

/** The sysctl each option's value may equal, read once per capture (see systemDefault). */
function sysDefaults(sc: Record<string, string>, tcp: boolean): Map<string, SysDefault> {
  const out = new Map<string, SysDefault>();
  const add = (name: string, key: string, idx: number | undefined, text: (v: string) => string) => {
    const raw = sc[key];
    if (raw === undefined) return;
    const want = idx === undefined ? raw : String(parseTriple(raw)[idx]);
    out.set(name, { want, wantNum: Number(want), text: text(want) });
  };
  add('TCP_KEEPIDLE', 'net.ipv4.tcp_keepalive_time', undefined, (v) => `net.ipv4.tcp_keepalive_time = ${v}`);
  add('TCP_KEEPINTVL', 'net.ipv4.tcp_keepalive_intvl', undefined, (v) => `net.ipv4.tcp_keepalive_intvl = ${v}`);
  add('TCP_KEEPCNT', 'net.ipv4.tcp_keepalive_probes', undefined, (v) => `net.ipv4.tcp_keepalive_probes = ${v}`);
  if (tcp) {
    add('SO_RCVBUF', 'net.ipv4.tcp_rmem', 1, (v) => `net.ipv4.tcp_rmem default (${v})`);
    add('SO_SNDBUF', 'net.ipv4.tcp_wmem', 1, (v) => `net.ipv4.tcp_wmem default (${v})`);
  } else {
    add('SO_RCVBUF', 'net.core.rmem_default', undefined, (v) => `net.core.rmem_default = ${v}`);
    add('SO_SNDBUF', 'net.core.wmem_default', undefined, (v) => `net.core.wmem_default = ${v}`);
  }
  add('TCP_CONGESTION', 'net.ipv4.tcp_congestion_control', undefined, (v) => `net.ipv4.tcp_congestion_control = ${v}`);
  add('IPV6_V6ONLY', 'net.ipv6.bindv6only', undefined, (v) => `net.ipv6.bindv6only = ${v}`);
  add('backlog', 'net.core.somaxconn', undefined, (v) => `net.core.somaxconn = ${v} (listen() caps the backlog there)`);
  return out;
}

/** Which sysctl a value equals, in words: the value's text equals the sysctl's. */
function systemDefault(ctx: Ctx, name: string, s: RawSocket, v: OptionValue): string | undefined {
  const d = (s.protocol.startsWith('tcp') ? ctx.sysTcp : ctx.sysUdp).get(name);
  if (d === undefined) return undefined;
  // String(v) === want, without making the string: a number's text is want exactly when it is the number want reads as and want is that number's own text.
  if (typeof v === 'number') return v === d.wantNum && String(d.wantNum) === d.want ? d.text : undefined;
  return String(v) === d.want ? d.text : undefined;
}

/**
 * Buffers: the kernel doubles what setReceiveBufferSize asked for and locks it;
 * without a lock, TCP autotunes the buffer of a connection by itself. Decide
 * from what can be seen and say how sure that is.
 */
function bufferVerdict(name: string, s: RawSocket, v: number, fresh: number | undefined, r: Role, ctx: Ctx): OptionVerdict {
  const locked = name === 'SO_RCVBUF' ? s.userLocks?.rcvbuf : s.userLocks?.sndbuf;
  if (locked !== undefined) {
    return locked
      ? { origin: 'application', confidence: 'certain', note: `locked by the application (sk_userlocks, ${s.userLocks!.source})` }
      : { origin: same(v, fresh) ? 'kernel-default' : 'autotuned', confidence: 'certain', note: `not locked (sk_userlocks, ${s.userLocks!.source}): the kernel sized it` };
  }
  // Without a lock flag the verdict depends on the value, the option, the protocol and listener-or-not only.
  const key = `${name}|${s.protocol}|${r === 'listening' ? 'l' : ''}`;
  let byValue = ctx.bufferVerdicts.get(key);
  if (!byValue) ctx.bufferVerdicts.set(key, (byValue = new Map()));
  let out = byValue.get(v);
  if (!out) {
    out = unlockedBufferVerdict(name, s, v, fresh, r, ctx);
    if (byValue.size < 4096) { byValue.set(v, out); ctx.sharedVerdicts.add(out); }
  }
  return out;
}

function unlockedBufferVerdict(name: string, s: RawSocket, v: number, fresh: number | undefined, r: Role, ctx: Ctx): OptionVerdict {
  if (same(v, fresh)) {
    return { origin: 'kernel-default', confidence: 'likely', note: `equals the default; set${name === 'SO_RCVBUF' ? 'Receive' : 'Send'}BufferSize(${v / 2}) would read back the same, and only the knetstat module's lock flag could tell them apart` };
  }
  const max = name === 'SO_RCVBUF' ? ctx.rmemMax : ctx.wmemMax;
  if (!s.protocol.startsWith('tcp') || r === 'listening') {
    // No autotuning on UDP sockets or listeners: a different value was set.
    return { origin: 'application', confidence: 'certain', note: max !== undefined && v === 2 * max ? `capped at 2 x net.core.${name === 'SO_RCVBUF' ? 'rmem' : 'wmem'}_max: the application may have asked for more` : undefined };
  }
  const half = v / 2;
  const kind = name === 'SO_RCVBUF' ? 'receive' : 'send';
  if (fresh !== undefined && v < fresh) {
    return { origin: 'application', confidence: 'likely', note: `below the kernel's default (${fresh}): autotuning only grows a buffer, so a set${kind === 'receive' ? 'Receive' : 'Send'}BufferSize call (confidence: likely)` };
  }
  const round = Number.isInteger(half) && (half % 1000 === 0 || half % 1024 === 0);
  if (round) return { origin: 'application', confidence: 'likely', note: `twice a round number (${half}): most likely set by the application; TCP autotuning rarely lands there (confidence: likely)` };
  return { origin: 'autotuned', confidence: 'likely', note: `above the default and not twice a round number: most likely the kernel's ${kind} buffer autotuning, not a set call (confidence: likely)` };
}

/** A verdict that depends on nothing but its key: built once per capture, read-only. */
function constVerdict(ctx: Ctx, key: string, make: () => OptionVerdict): OptionVerdict {
  let v = ctx.verdictOf.get(key);
  if (!v) { ctx.verdictOf.set(key, (v = make())); ctx.sharedVerdicts.add(v); }
  return v;
}

/** An option that changes by itself (TCP_QUICKACK, TCP_MAXSEG): one verdict per option. */
function dynamicVerdict(ctx: Ctx, row: JavaOption): OptionVerdict {
  let v = ctx.dynamicVerdicts.get(row);
  if (!v) { ctx.dynamicVerdicts.set(row, (v = { origin: 'unknown', note: row.dynamic })); ctx.sharedVerdicts.add(v); }
  return v;
}

/** A shared verdict with a systemDefault added last (as setting it on a fresh verdict did), itself shared. */
function withSystemDefault(ctx: Ctx, v: OptionVerdict, sd: string): OptionVerdict {
  let bySd = ctx.withSd.get(v);
  if (!bySd) ctx.withSd.set(v, (bySd = new Map()));
  let out = bySd.get(sd);
  if (!out) {
    out = Object.assign({}, v);
    out.systemDefault = sd;
    bySd.set(sd, out);
    ctx.sharedVerdicts.add(out);
  }
  return out;
}

function makeCall(row: JavaOption, group: Group, api: string, nioApi: string, v: OptionValue, origin: JavaCall['origin'], isMulticast: boolean): JavaCall | undefined {
  const t = row.java[group];
  if (!t) return undefined;
  const arg = javaArg(row, v, false);
  const nioArg = javaArg(row, v, true);
  const opt = t.option ? `setOption(${t.option}, ${nioArg})` : undefined;
  let call: string;
  let on = api;
  if (t.classic && (!t.classicOn || isMulticast)) call = t.classic.replaceAll('{v}', arg);
  else if (t.classic && t.classicOn === 'multicast') { on = 'java.net.MulticastSocket'; call = t.classic.replaceAll('{v}', arg); }
  else if (opt) call = opt;
  else return undefined;
  const nio = t.nioCall ? t.nioCall.replaceAll('{v}', arg) : opt;
  return { api: on, call, origin, options: [row.option], nio: nio && nio !== call ? `${nioApi}.${nio}` : undefined, note: t.note };
}

/** net/ipv4/route.c ip_tos2prio: setting IP_TOS also sets sk_priority from the TOS bits. */
const TOS2PRIO = [0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4];
export function tosToPriority(tos: number): number {
  return TOS2PRIO[(tos & 0x1e) >> 1]!;
}

/** Bound to a specific IPv6 address (neither :: nor v4-mapped): __inet6_bind() then sets sk_ipv6only. */
function boundToIPv6(s: { local: { address: string }; protocol: string }, _r?: Role, listener?: RawSocket): boolean {
  const a = (listener ?? s).local.address;
  return s.protocol.endsWith('6') && a !== '::' && !a.startsWith('::ffff:');
}

/** mappings/framework-hints.json: values that point to a framework's default. Hints, never facts. */
function frameworkHints(s: RawSocket, r: Role, sc: Record<string, string>, out: string[]): void {
  for (const h of mappings().hints) {
    if (h.roles && !h.roles.includes(r)) continue;
    const v = s.options[h.option]?.value;
    if (v === undefined || v === null) continue;
    const { value, lingerMultipleOf } = h.match;
    if (value !== undefined) {
      const want = value === 'somaxconn' ? Number(sc['net.core.somaxconn']) : value;
      if (v !== want) continue;
    }
    if (lingerMultipleOf !== undefined) {
      if (typeof v !== 'object' || !v.enabled || v.seconds === 0 || v.seconds % lingerMultipleOf !== 0) continue;
      out.push(h.hint.replace('{linger/1000}', String(v.seconds / lingerMultipleOf)));
      continue;
    }
    out.push(h.hint);
  }
}

/** One call can explain two options (setTrafficClass sets IPV6_TCLASS and IP_TOS on a dual-stack socket). */
function merge(calls: JavaCall[]): JavaCall[] {
  if (calls.length < 2) return calls;
  const out: JavaCall[] = [];
  for (const c of calls) {
    const same = out.find((o) => o.api === c.api && o.call === c.call && o.origin === c.origin);
    if (same) same.options = [...same.options, ...c.options];
    else out.push(c);
  }
  return out;
}

/** One object per distinct verdict (same fields, same order, same values): read-only from here on. */
function shared(cache: Map<string, OptionVerdict>, v: OptionVerdict): OptionVerdict {
  let key = '';
  for (const k in v) key += `${k}\u0000${(v as unknown as Record<string, unknown>)[k]}\u0001`;
  const have = cache.get(key);
  if (have) return have;
  cache.set(key, v);
  return v;
}

function cachedJdkRow(ctx: Ctx, kind: string, family: 4 | 6): JdkDefaultRow | undefined {
  const key = `${kind}|${family}`;
  if (!ctx.rowCache.has(key)) ctx.rowCache.set(key, jdkRow(ctx.jdk, kind, family, ctx.feature, ctx.v4stack));
  return ctx.rowCache.get(key);
}

/** What a fresh socket of this kind has: the JDK's value if its row sets one, else the kernel's. */
function expectedValue(row: JdkDefaultRow | undefined, name: string, fresh: Record<string, OptionValue>): OptionValue | undefined {
  const j = row?.options?.[name];
  return j !== undefined ? (j as OptionValue) : fresh[name];
}

/** The JDK set it: its row has a value that differs from the kernel's. */
function expectedFromJdk(row: JdkDefaultRow | undefined, name: string, fresh: Record<string, OptionValue>): boolean {
  const j = row?.options?.[name];
  return j !== undefined && !same(j as OptionValue, fresh[name]);
}

function freshFor(ctx: Ctx, protocol: Protocol): Record<string, OptionValue> {
  let fresh = ctx.freshCache.get(protocol);
  if (!fresh) {
    fresh = { ...BUILTIN_DEFAULTS, ...(ctx.capture.host.kernelDefaults?.[protocol] ?? {}) };
    ctx.freshCache.set(protocol, fresh);
  }
  return fresh;
}

function roleFamily(ctx: Ctx, r: Role, family: 4 | 6): RoleFamily {
  const key = `${r}|${family}`;
  let rf = ctx.roleFamily.get(key);
  if (!rf) {
    const kinds = KINDS[r].kinds.map((k) => ({ kind: k.kind, api: k.api, row: cachedJdkRow(ctx, k.kind, family) }));
    rf = { kinds, anyRow: kinds.some((k) => k.row), apis: [], altRows: kinds.map(() => []) };
    ctx.roleFamily.set(key, rf);
  }
  return rf;
}

/**
 * Rows on which a socket that has the best kind's default would differ from the
 * alternative kind's: only those can name a call the alternative needed (same()
 * is an equivalence, so value = best's default and value != alt's default
 * holds exactly when both defaults differ and the value equals best's).
 */
function altRowsFor(rf: RoleFamily, bi: number, ai: number, fresh: Record<string, OptionValue>): JavaOption[] {
  let rows = rf.altRows[bi]![ai];
  if (!rows) {
    const best = rf.kinds[bi]!.row, alt = rf.kinds[ai]!.row;
    rows = mappings().java.options.filter((row) => !row.dynamic && row.option !== 'backlog' && !/BUF$/.test(row.option)
      && !same(expectedValue(alt, row.option, fresh), expectedValue(best, row.option, fresh))
      && expectedValue(best, row.option, fresh) !== undefined);
    rf.altRows[bi]![ai] = rows;
  }
  return rows;
}

/**
 * Cost of each kind: how many options differ from what it leaves on a fresh
 * socket (the application's calls it needs). A kind expects the kernel's value
 * except where its JDK row sets one, so: the differences from the kernel's
 * defaults, counted once, corrected on each kind's few JDK-set options.
 */
function kindCosts(s: RawSocket, rf: RoleFamily, fresh: Record<string, OptionValue>, costs: number[]): void {
  const options = s.options;
  let base = 0;
  for (const n in options) {
    const value = options[n]!.value;
    if (value !== null && n !== 'backlog' && !same(value, fresh[n])) base++;
  }
  for (let i = 0; i < rf.kinds.length; i++) {
    const row = rf.kinds[i]!.row;
    let c = rf.anyRow && !row ? Infinity : base;
    const jdk = row?.options;
    if (jdk) {
      for (const n in jdk) {
        const j = jdk[n] as OptionValue | undefined;
        const reading = n === 'backlog' ? undefined : options[n];
        if (j === undefined || reading === undefined || reading.value === null) continue;
        c += (same(reading.value, j) ? 0 : 1) - (same(reading.value, fresh[n]) ? 0 : 1);
      }
    }
    costs[i] = c;
  }
}

/**
 * Verdicts objects with fast properties: ~26 keyed stores into {} leave V8 a
 * dictionary (larger, and slower to walk when the report is written). The
 * verdicts go into a scratch array by mapping row, then onto a copy of a
 * template with exactly those keys in that order, one template per key set.
 */
const verdictScratch: (OptionVerdict | undefined)[] = [];
const verdictTemplates = new Map<number, Record<string, OptionVerdict | undefined>>();
const POW2 = Array.from({ length: 53 }, (_, i) => 2 ** i);

function verdictsObject(rows: JavaOption[]): Record<string, OptionVerdict> {
  if (rows.length > POW2.length) {
    // More mapping rows than a mask can number: the plain object.
    const out: Record<string, OptionVerdict> = {};
    for (let i = 0; i < rows.length; i++) {
      const v = verdictScratch[i];
      if (v !== undefined) { out[rows[i]!.option] = v; verdictScratch[i] = undefined; }
    }
    return out;
  }
  let mask = 0;
  for (let i = 0; i < rows.length; i++) if (verdictScratch[i] !== undefined) mask += POW2[i]!;
  let template = verdictTemplates.get(mask);
  if (!template) {
    const keyed: Record<string, OptionVerdict | undefined> = {};
    for (let i = 0; i < rows.length; i++) if (verdictScratch[i] !== undefined) keyed[rows[i]!.option] = undefined;
    template = { ...keyed };
    verdictTemplates.set(mask, template);
  }
  const out = { ...template };
  for (let i = 0; i < rows.length; i++) {
    const v = verdictScratch[i];
    if (v !== undefined) { out[rows[i]!.option] = v; verdictScratch[i] = undefined; }
  }
  return out as Record<string, OptionVerdict>;
}

function analyzeSocket(s: RawSocket, ctx: Ctx): ReportSocket {
  const { role: r, listener } = role(s, ctx.listenersByPort.get(s.local.port));
  const { group } = KINDS[r];
  const family: 4 | 6 = s.protocol.endsWith('6') ? 6 : 4;
  const fresh = freshFor(ctx, s.protocol);
  const api = mappings().java;
  const cls = api.classes[group];
  const hints: string[] = [];
  const unknown: string[] = [];
  const rows = api.options;
  for (let i = 0; i < rows.length; i++) verdictScratch[i] = undefined;

  // Which JDK class explains the socket with the fewest application calls: kinds in the order a stable sort by cost puts them.
  const rf = roleFamily(ctx, r, family);
  const kinds = rf.kinds;
  const n = kinds.length;
  const costs: number[] = [];
  kindCosts(s, rf, fresh, costs);
  const ranked: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = costs[i]!;
    let j = ranked.length;
    while (j > 0 && costs[ranked[j - 1]!]! > c) j--;
    ranked.splice(j, 0, i);
  }
  const bi = ranked[0]!;
  const best = kinds[bi]!;
  let tieMask = 0;
  for (let i = 0; i < n; i++) if (costs[i] === costs[bi]) tieMask |= 1 << i;
  let apis = rf.apis[tieMask];
  if (!apis) {
    const ties = ranked.filter((i) => costs[i] === costs[bi]).map((i) => kinds[i]!);
    apis = rf.apis[tieMask] = [...new Set([...ties.map((k) => k.api), ...kinds.map((k) => k.api)])];
  }
  const isMulticast = best.kind === 'MulticastSocket';
  const mainApi = r === 'udp' ? best.api : cls.classic;
  // Other classes that could have made the same socket with other calls: say so rather than pick silently.
  for (let k = 1; k < n; k++) {
    const ai = ranked[k]!;
    const alt = kinds[ai]!;
    if (!alt.row || !Number.isFinite(costs[ai]) || alt.api === best.api) continue;
    const candidates = altRowsFor(rf, bi, ai, fresh);
    if (!candidates.length) continue;
    const diff = candidates.filter((row) => s.options[row.option]?.value != null && same(s.options[row.option]!.value!, expectedValue(best.row, row.option, fresh)));
    if (!diff.length) continue;
    const altCalls = diff.map((row) => makeCall(row, group, alt.api, cls.nio, s.options[row.option]!.value!, 'application', alt.kind === 'MulticastSocket')?.call ?? `${row.option}=${show(s.options[row.option]!.value!)}`);
    hints.push(`or a ${alt.api} on which the application called ${altCalls.join(', ')}: both leave this socket as it is`);
  }

  const java: JavaCall[] = [];
  const tos = Number(s.options.IP_TOS?.value ?? 0);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const reading = s.options[row.option];
    if (!reading) continue;
    if (reading.value === null) { unknown.push(row.option); continue; }
    const v = reading.value;
    if (row.dynamic) { verdictScratch[i] = dynamicVerdict(ctx, row); continue; }
    const sd = systemDefault(ctx, row.option, s, v);

    if (row.option === 'backlog') {
      const n = Number(v);
      const jdkDefault = best.row?.backlog ?? 50;
      const origin = n === jdkDefault ? 'jdk-default' : 'application';
      verdictScratch[i] = constVerdict(ctx, `backlog|${origin}|${sd ?? ''}`, () => ({ origin, systemDefault: sd }));
      const c = makeCall(row, 'server', cls.classic, cls.nio, v, origin, false);
      if (c) {
        if (origin === 'jdk-default') { c.call = 'new ServerSocket(port) / bind(addr)'; c.nio = `${cls.nio}.bind(addr)`; c.note = `no backlog given (or 0): the JDK asks listen() for ${jdkDefault}`; }
        java.push(c);
      }
      continue;
    }

    // Accepted sockets: a value equal to the listener's came with accept().
    if (r === 'accepted' && listener && INHERITED.has(row.option)) {
      const lv = listener.options[row.option]?.value;
      if (lv !== undefined && lv !== null && same(v, lv) && !same(lv, fresh[row.option])) {
        const lrow = cachedJdkRow(ctx, 'ServerSocket', family);
        const ljdk = lrow?.options?.[row.option];
        const viaJdk = ljdk !== undefined && same(ljdk as OptionValue, lv);
        const inherited: OptionVerdict = { origin: viaJdk ? 'jdk-default' : 'application', systemDefault: sd, note: `inherited from listener fd ${listener.fd} (${formatEndpoint(listener.local.address, listener.local.port)})` };
        verdictScratch[i] = inherited;
        if (viaJdk || (row.option === 'IPV6_V6ONLY' && boundToIPv6(listener, 'listening'))) {
          inherited.origin = viaJdk ? 'jdk-default' : 'kernel-default';
          continue; // the JDK or the kernel set it on the listener: nothing for the application to change
        }
        const target = row.java.server ? 'server' : 'socket';
        const c = makeCall(row, target, target === 'server' ? api.classes.server.classic : cls.classic, target === 'server' ? api.classes.server.nio : cls.nio, v, 'inherited', false);
        const from = { fd: listener.fd, local: listener.local };
        if (c) {
          c.from = from;
          c.note = target === 'server'
            ? `inherited from the listener: the call belongs on the ServerSocket${row.option.startsWith('SO_RCVBUF') ? ' (before bind)' : ''}`
            : `inherited from the listener, where ${row.listener ?? 'no Java API sets it'}`;
          java.push(c);
        } else {
          java.push({ api: 'native', call: `${row.option}=${show(v)}`, origin: 'inherited', options: [row.option], from, note: `inherited from the listener; no Java API${row.native ? ` (${row.native})` : ''}` });
        }
        continue;
      }
    }

    let verdict: OptionVerdict;
    const boundV6 = row.option === 'IPV6_V6ONLY' && v === 1 && boundToIPv6(s, r, r === 'accepted' ? listener : undefined);
    if (row.option === 'SO_PRIORITY' && tos !== 0 && v === tosToPriority(tos)) {
      verdict = { origin: 'kernel-default', note: `set by the kernel from IP_TOS 0x${tos.toString(16)} (rt_tos2priority), not by a call of its own` };
    } else if (boundV6) {
      verdict = constVerdict(ctx, 'boundV6', () => ({ origin: 'kernel-default', note: 'the kernel sets IPV6_V6ONLY when a socket binds to a specific IPv6 address (not :: or ::ffff:*)' }));
    } else if (row.option === 'SO_RCVBUF' || row.option === 'SO_SNDBUF') {
      verdict = bufferVerdict(row.option, s, Number(v), fresh[row.option] as number | undefined, r, ctx);
    } else {
      const exp = expectedValue(best.row, row.option, fresh);
      if (same(v, exp)) {
        verdict = expectedFromJdk(best.row, row.option, fresh)
          ? constVerdict(ctx, 'jdk-default', () => ({ origin: 'jdk-default' }))
          : constVerdict(ctx, 'kernel-default', () => ({ origin: 'kernel-default' }));
      } else if (exp === undefined) {
        verdict = constVerdict(ctx, 'no-default', () => ({ origin: 'unknown', note: 'no default known for this kind of socket' }));
      } else {
        verdict = constVerdict(ctx, 'application', () => ({ origin: 'application' }));
      }
    }
    if (sd) {
      // A shared verdict gets its systemDefault on a shared copy; one made for this socket alone, on itself.
      if (ctx.sharedVerdicts.has(verdict)) verdict = withSystemDefault(ctx, verdict, sd);
      else verdict.systemDefault = sd;
    }
    verdictScratch[i] = verdict;

    if (verdict.origin === 'application' || verdict.origin === 'jdk-default') {
      const origin = verdict.origin;
      const c = makeCall(row, group, mainApi, cls.nio, v, origin, isMulticast);
      if (c) {
        if (origin === 'jdk-default') c.note = `the JDK sets this on every new ${best.kind}${best.row ? ` (${best.row.source})` : ''}`;
        else if (verdict.note) { c.note = verdict.note; c.confidence = verdict.confidence; }
        if (r === 'listening' && !row.java.server && row.listener) c.note = `${row.listener}`;
        java.push(c);
      } else if (origin === 'application') {
        const note = r === 'listening' && row.listener ? row.listener : `no Java API: ${row.native ?? 'set by native code'}`;
        java.push({ api: 'native', call: `${row.option}=${show(v)}`, origin, options: [row.option], note });
      }
    }
  }

  frameworkHints(s, r, ctx.sysctl, hints);
  const verdicts = verdictsObject(rows);
  // Whole reports: the verdicts made for this socket alone join their equals too (those above are shared already).
  if (ctx.verdictCache) {
    for (const k in verdicts) if (!ctx.sharedVerdicts.has(verdicts[k]!)) verdicts[k] = shared(ctx.verdictCache, verdicts[k]!);
  }
  // The RawSocket's fields in its own order, then the analysis: what {...s, role, ...} makes, without
  // the spread (V8 builds a spread-then-extended literal on a slow path that tenures every copy).
  const out = Object.assign({}, s) as ReportSocket;
  out.role = r;
  out.apis = apis;
  out.java = merge(java);
  out.verdicts = verdicts;
  out.unobservable = UNOBSERVABLE[r];
  out.hints = hints;
  out.unknown = unknown;
  out.listener = listener ? { fd: listener.fd, inode: listener.inode, local: listener.local } : undefined;
  return out;
}

function context(capture: Capture): Ctx {
  const jvm = capture.process.jvm;
  const v4stack = jvm?.properties['java.net.preferIPv4Stack'] === 'true';
  const listeners = capture.sockets.filter((s) => s.state === 'LISTEN');
  const sc = capture.host.sysctls;
  const ctx: Ctx = {
    capture, sysctl: sc, feature: jvm?.feature, v4stack,
    listeners,
    listenersByPort: new Map(),
    rowCache: new Map(),
    freshCache: new Map(),
    roleFamily: new Map(),
    sysTcp: sysDefaults(sc, true),
    sysUdp: sysDefaults(sc, false),
    rmemMax: parseTriple(sc['net.core.rmem_max'])[0],
    wmemMax: parseTriple(sc['net.core.wmem_max'])[0],
    verdictOf: new Map(),
    dynamicVerdicts: new Map(),
    sharedVerdicts: new Set(),
    bufferVerdicts: new Map(),
    withSd: new Map(),
    jdk: capture.jdkDefaults?.rows ?? mappings().jdk,
  };
  for (const l of listeners) {
    const same = ctx.listenersByPort.get(l.local.port);
    if (same) same.push(l); else ctx.listenersByPort.set(l.local.port, [l]);
  }
  return ctx;
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
  ctx.verdictCache = new Map();
  return {
    ...capture,
    sockets: capture.sockets.map((s) => analyzeSocket(s, ctx)),
    defaults: defaultsOf(capture),
  };
}

/** The report with its sockets analysed as they are read (analyzeSockets): for renderers that stream. */
export function analyzeStream(capture: Capture): ReportStream {
  return { ...capture, sockets: analyzeSockets(capture), defaults: defaultsOf(capture) };
}
