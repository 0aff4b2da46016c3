// Capture -> Report: classify each socket by role, compare every option with
// what a fresh socket of that kind has (kernel default, plus what the JDK sets
// by itself), and write the differences back as the Java calls that make them.
import { mappings, type JavaOption, type JdkDefaultRow } from '../mappings.js';
import { formatEndpoint } from '../model/addr.js';
import type {
  Capture, JavaCall, OptionValue, OptionVerdict, Protocol, RawSocket, Report, ReportSocket, Role, Unobservable,
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

interface Ctx {
  capture: Capture;
  sysctl: Record<string, string>;
  feature?: number;
  v4stack: boolean;
  listeners: RawSocket[];
  /** listeners by local port: role() looks up, not scans (50,000-socket JVMs). */
  listenersByPort: Map<number, RawSocket[]>;
  /** per-capture caches: jdkRow by kind/family, kernel defaults by protocol. */
  rowCache: Map<string, JdkDefaultRow | undefined>;
  freshCache: Map<string, Record<string, OptionValue>>;
  /** Equal verdicts shared between the sockets of a report held whole (~60 distinct among 26 per socket); not when streaming. */
  verdictCache?: Map<string, OptionVerdict>;
  /** JDK-defaults rows in force: measured (--probe-jdk) or from mappings/. */
  jdk: JdkDefaultRow[];
}

function role(s: RawSocket, listeners: RawSocket[] = []): { role: Role; listener?: RawSocket } {
  if (s.protocol.startsWith('udp')) return { role: 'udp' };
  if (s.state === 'LISTEN') return { role: 'listening' };
  const l = listeners.find((l) => l.local.port === s.local.port && l.protocol === s.protocol &&
    (l.local.address === s.local.address || l.local.address === '0.0.0.0' || l.local.address === '::'));
  return l ? { role: 'accepted', listener: l } : { role: 'connected' };
}

/** Which sysctl a value equals, in words. */
function systemDefault(name: string, s: RawSocket, v: OptionValue, sc: Record<string, string>): string | undefined {
  const tcp = s.protocol.startsWith('tcp');
  const eq = (key: string, idx?: number) => {
    const raw = sc[key];
    if (raw === undefined) return false;
    const want = idx === undefined ? raw : String(parseTriple(raw)[idx]);
    return String(v) === want;
  };
  switch (name) {
    case 'TCP_KEEPIDLE': return eq('net.ipv4.tcp_keepalive_time') ? `net.ipv4.tcp_keepalive_time = ${v}` : undefined;
    case 'TCP_KEEPINTVL': return eq('net.ipv4.tcp_keepalive_intvl') ? `net.ipv4.tcp_keepalive_intvl = ${v}` : undefined;
    case 'TCP_KEEPCNT': return eq('net.ipv4.tcp_keepalive_probes') ? `net.ipv4.tcp_keepalive_probes = ${v}` : undefined;
    case 'SO_RCVBUF': return tcp ? (eq('net.ipv4.tcp_rmem', 1) ? `net.ipv4.tcp_rmem default (${v})` : undefined) : eq('net.core.rmem_default') ? `net.core.rmem_default = ${v}` : undefined;
    case 'SO_SNDBUF': return tcp ? (eq('net.ipv4.tcp_wmem', 1) ? `net.ipv4.tcp_wmem default (${v})` : undefined) : eq('net.core.wmem_default') ? `net.core.wmem_default = ${v}` : undefined;
    case 'TCP_CONGESTION': return eq('net.ipv4.tcp_congestion_control') ? `net.ipv4.tcp_congestion_control = ${v}` : undefined;
    case 'IPV6_V6ONLY': return eq('net.ipv6.bindv6only') ? `net.ipv6.bindv6only = ${v}` : undefined;
    case 'backlog': return eq('net.core.somaxconn') ? `net.core.somaxconn = ${v} (listen() caps the backlog there)` : undefined;
    default: return undefined;
  }
}

/**
 * Buffers: the kernel doubles what setReceiveBufferSize asked for and locks it;
 * without a lock, TCP autotunes the buffer of a connection by itself. Decide
 * from what can be seen and say how sure that is.
 */
function bufferVerdict(name: string, s: RawSocket, v: number, fresh: number | undefined, r: Role, sc: Record<string, string>): OptionVerdict {
  const locked = name === 'SO_RCVBUF' ? s.userLocks?.rcvbuf : s.userLocks?.sndbuf;
  if (locked !== undefined) {
    return locked
      ? { origin: 'application', confidence: 'certain', note: `locked by the application (sk_userlocks, ${s.userLocks!.source})` }
      : { origin: same(v, fresh) ? 'kernel-default' : 'autotuned', confidence: 'certain', note: `not locked (sk_userlocks, ${s.userLocks!.source}): the kernel sized it` };
  }
  if (same(v, fresh)) {
    return { origin: 'kernel-default', confidence: 'likely', note: `equals the default; set${name === 'SO_RCVBUF' ? 'Receive' : 'Send'}BufferSize(${v / 2}) would read back the same, and only the knetstat module's lock flag could tell them apart` };
  }
  const max = parseTriple(sc[name === 'SO_RCVBUF' ? 'net.core.rmem_max' : 'net.core.wmem_max'])[0];
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
function frameworkHints(s: RawSocket, r: Role, sc: Record<string, string>): string[] {
  const out: string[] = [];
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
  return out;
}

/** One call can explain two options (setTrafficClass sets IPV6_TCLASS and IP_TOS on a dual-stack socket). */
function merge(calls: JavaCall[]): JavaCall[] {
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

function analyzeSocket(s: RawSocket, ctx: Ctx): ReportSocket {
  const { role: r, listener } = role(s, ctx.listenersByPort.get(s.local.port));
  const { group, kinds } = KINDS[r];
  const family: 4 | 6 = s.protocol.endsWith('6') ? 6 : 4;
  let fresh = ctx.freshCache.get(s.protocol);
  if (!fresh) {
    fresh = { ...BUILTIN_DEFAULTS, ...(ctx.capture.host.kernelDefaults?.[s.protocol as Protocol] ?? {}) };
    ctx.freshCache.set(s.protocol, fresh);
  }
  const api = mappings().java;
  const cls = api.classes[group];
  const verdicts: Record<string, OptionVerdict> = {};
  const hints: string[] = [];
  const unknown: string[] = [];

  // Which JDK class explains the socket with the fewest application calls.
  const rows = kinds.map((k) => ({ ...k, row: cachedJdkRow(ctx, k.kind, family) }));
  const expected = (row: JdkDefaultRow | undefined, name: string): { v: OptionValue | undefined; jdk: boolean } => {
    const j = row?.options?.[name];
    if (j !== undefined) return { v: j as OptionValue, jdk: !same(j as OptionValue, fresh[name]) };
    return { v: fresh[name], jdk: false };
  };
  const readings = Object.entries(s.options);
  // A kind with no row for this family cannot have made the socket (DatagramSocket never makes
  // an AF_INET socket in a dual-stack JVM; DatagramChannel.open(INET) does), unless no kind has one.
  const anyRow = rows.some((k) => k.row);
  const costs = new Map<JdkDefaultRow | undefined, number>();
  const cost = (row: JdkDefaultRow | undefined): number => {
    let c = costs.get(row);
    if (c === undefined) {
      c = (anyRow && !row ? Infinity : 0) + readings.filter(([n, o]) => o.value !== null && n !== 'backlog' && !same(o.value, expected(row, n).v)).length;
      costs.set(row, c);
    }
    return c;
  };
  const ranked = [...rows].sort((a, b) => cost(a.row) - cost(b.row));
  const best = ranked[0]!;
  const ties = ranked.filter((k) => cost(k.row) === cost(best.row));
  const apis = [...new Set([...ties.map((k) => k.api), ...kinds.map((k) => k.api)])];
  const isMulticast = best.kind === 'MulticastSocket';
  const mainApi = r === 'udp' ? best.api : cls.classic;
  // Other classes that could have made the same socket with other calls: say so rather than pick silently.
  for (const alt of ranked.slice(1)) {
    if (!alt.row || !Number.isFinite(cost(alt.row)) || alt.api === best.api) continue;
    const diff = api.options.filter((row) => !row.dynamic && row.option !== 'backlog' && !/BUF$/.test(row.option)
      && s.options[row.option]?.value != null && !same(s.options[row.option]!.value!, expected(alt.row, row.option).v)
      && same(s.options[row.option]!.value!, expected(best.row, row.option).v));
    if (!diff.length) continue;
    const altCalls = diff.map((row) => makeCall(row, group, alt.api, cls.nio, s.options[row.option]!.value!, 'application', alt.kind === 'MulticastSocket')?.call ?? `${row.option}=${show(s.options[row.option]!.value!)}`);
    hints.push(`or a ${alt.api} on which the application called ${altCalls.join(', ')}: both leave this socket as it is`);
  }

  const java: JavaCall[] = [];
  for (const row of api.options) {
    const reading = s.options[row.option];
    if (!reading) continue;
    if (reading.value === null) { unknown.push(row.option); continue; }
    const v = reading.value;
    if (row.dynamic) { verdicts[row.option] = { origin: 'unknown', note: row.dynamic }; continue; }
    const sd = systemDefault(row.option, s, v, ctx.sysctl);

    if (row.option === 'backlog') {
      const n = Number(v);
      const jdkDefault = best.row?.backlog ?? 50;
      const origin = n === jdkDefault ? 'jdk-default' : 'application';
      verdicts.backlog = { origin, systemDefault: sd };
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
        verdicts[row.option] = { origin: viaJdk ? 'jdk-default' : 'application', systemDefault: sd, note: `inherited from listener fd ${listener.fd} (${formatEndpoint(listener.local.address, listener.local.port)})` };
        if (viaJdk || (row.option === 'IPV6_V6ONLY' && boundToIPv6(listener, 'listening'))) {
          verdicts[row.option]!.origin = viaJdk ? 'jdk-default' : 'kernel-default';
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

    const exp = expected(best.row, row.option);
    let verdict: OptionVerdict;
    const boundV6 = row.option === 'IPV6_V6ONLY' && v === 1 && boundToIPv6(s, r, r === 'accepted' ? listener : undefined);
    const tos = Number(s.options.IP_TOS?.value ?? 0);
    if (row.option === 'SO_PRIORITY' && tos !== 0 && v === tosToPriority(tos)) {
      verdict = { origin: 'kernel-default', note: `set by the kernel from IP_TOS 0x${tos.toString(16)} (rt_tos2priority), not by a call of its own` };
    } else if (boundV6) {
      verdict = { origin: 'kernel-default', note: 'the kernel sets IPV6_V6ONLY when a socket binds to a specific IPv6 address (not :: or ::ffff:*)' };
    } else if (row.option === 'SO_RCVBUF' || row.option === 'SO_SNDBUF') {
      verdict = bufferVerdict(row.option, s, Number(v), fresh[row.option] as number | undefined, r, ctx.sysctl);
    } else if (same(v, exp.v)) {
      verdict = { origin: exp.jdk ? 'jdk-default' : 'kernel-default' };
    } else if (exp.v === undefined) {
      verdict = { origin: 'unknown', note: 'no default known for this kind of socket' };
    } else {
      verdict = { origin: 'application' };
    }
    if (sd) verdict.systemDefault = sd;
    verdicts[row.option] = verdict;

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

  hints.push(...frameworkHints(s, r, ctx.sysctl));
  if (ctx.verdictCache) for (const k in verdicts) verdicts[k] = shared(ctx.verdictCache, verdicts[k]!);
  return {
    ...s, role: r, apis, java: merge(java), verdicts, unobservable: UNOBSERVABLE[r], hints, unknown,
    listener: listener ? { fd: listener.fd, inode: listener.inode, local: listener.local } : undefined,
  };
}

function context(capture: Capture): Ctx {
  const jvm = capture.process.jvm;
  const v4stack = jvm?.properties['java.net.preferIPv4Stack'] === 'true';
  const listeners = capture.sockets.filter((s) => s.state === 'LISTEN');
  const ctx: Ctx = {
    capture, sysctl: capture.host.sysctls, feature: jvm?.feature, v4stack,
    listeners,
    listenersByPort: new Map(),
    rowCache: new Map(),
    freshCache: new Map(),
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

export function analyze(capture: Capture): Report {
  const jvm = capture.process.jvm;
  const ctx = context(capture);
  ctx.verdictCache = new Map();
  const verified = [...new Set(mappings().jdk.map((r) => r.jdk))].join(', ') || 'none';
  let note: string | undefined;
  if (capture.jdkDefaults) note = `JDK defaults measured from the target's own JDK: ${capture.jdkDefaults.source}`;
  else if (!jvm) note = 'not a JVM: Java calls are what a JVM would have needed';
  else if (jvm.feature === undefined) note = `JDK version unknown: defaults as verified on JDK ${verified}`;
  else if (!mappings().jdk.some((r) => covers(r.jdk, jvm.feature))) note = `target runs JDK ${jvm.version}; defaults verified on JDK ${verified} only: origins may be off (--probe-jdk measures them from the target's JDK)`;
  return {
    ...capture,
    sockets: capture.sockets.map((s) => analyzeSocket(s, ctx)),
    defaults: { jdk: jvm?.version ?? 'unknown', note },
  };
}
