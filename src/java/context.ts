// The state one capture's analysis shares between its sockets: what the
// capture says once (JVM, JDK facts, sysctls, listeners by port, peers by
// endpoint), each socket's role, and the caches that let 50,000 sockets share
// rows, kinds, verdicts and whole results instead of building them each.
import { jdkFactsFor, mappings, type JavaOption, type JdkDefaultRow, type JdkFacts } from '../mappings.js';
import type { Capture, OptionValue, OptionVerdict, Protocol, RawSocket, Role } from '../model/types.js';
import { jdkRow, parseTriple, sysDefaults, type SysDefault } from './defaults.js';
import { endpointKey } from '../model/addr.js';

/** A socket's role and how sure it is (java/roles.ts). */
export interface RoleInfo {
  role: Role;
  confidence: 'certain' | 'likely' | 'uncertain';
  note: string;
  /** Accepted: the listener whose options explain it best. */
  listener?: RawSocket;
  /** Accepted: every listener that explains it as well (SO_REUSEPORT groups), the one above first; only when more than one. */
  candidates?: RawSocket[];
  /** Accepted, and no listener on its port any more: what it inherited is known only from the JDK's defaults. */
  listenerGone?: boolean;
}

/** One capture's analysis state. */
export interface Ctx {
  capture: Capture;
  sysctl: Record<string, string>;
  feature?: number;
  v4stack: boolean;
  /** What the target's JDK does (supportedOptions, O_NONBLOCK, thread names): mappings/jdk-facts.json. */
  facts?: JdkFacts;
  /** Threads of the default asynchronous channel group seen in the JVM; undefined when they were not read. */
  asyncThreads?: number;
  /** listeners by local port: role() looks up, not scans (50,000-socket JVMs). */
  listenersByPort: Map<number, RawSocket[]>;
  /** Sockets by local endpoint (address as one family sees it, port), for a peer in the same process; built on first use. */
  byLocal?: Map<string, RawSocket[]>;
  /** The socket on the other end of s when this process holds it too. */
  peerOf(s: RawSocket): RawSocket | undefined;
  /** net.ipv4.ip_local_port_range: where connect() picks a port. */
  portRange?: [number, number];
  /** net.ipv4.tcp_wmem / tcp_rmem: min, default, max. */
  wmem: number[];
  rmem: number[];
  /** per-capture caches: jdkRow by kind/family, kernel defaults by protocol. */
  rowCache: Map<string, JdkDefaultRow | undefined>;
  freshCache: Map<string, Record<string, OptionValue>>;
  /** systemDefault() answers, per option, for TCP and for UDP sockets. */
  sysTcp: Map<string, SysDefault>;
  sysUdp: Map<string, SysDefault>;
  /** net.core.rmem_max / wmem_max, parsed once. */
  rmemMax: number | undefined;
  wmemMax: number | undefined;
  /** Verdicts that depend only on their inputs are one read-only object each. */
  verdictOf: Map<string, OptionVerdict>;
  dynamicVerdicts: Map<JavaOption, OptionVerdict>;
  /** Every verdict above: one object for many sockets, never changed. */
  sharedVerdicts: Set<OptionVerdict>;
  /** The same verdict with a systemDefault added, by verdict and sysctl text. */
  withSd: Map<OptionVerdict, Map<string, OptionVerdict>>;
  /** Equal verdicts are one object in the whole report (and its JSON text made once). */
  verdictCache?: Map<string, OptionVerdict>;
  /** JDK-defaults rows in force: measured (--probe-jdk) or from mappings/. */
  jdk: JdkDefaultRow[];
  /** mappings/inherited-options.json. */
  inherited: Set<string>;
  /** The kinds a role and family can be (analyze.ts), built once. */
  kinds: Map<string, unknown>;
  /** The analysis of each distinct socket signature (analyze.ts), by a hash of its inputs: shared by every socket that has it. */
  results: Map<number, unknown[]>;
  /** Results numbered as they are made. */
  resultCount: number;
  /** A listener's analysis, for the sockets it accepted. */
  listenerResults: Map<RawSocket, unknown>;
  /** A result shared by the sockets of listeners alike, made whole per listener (analyze.ts forListener). */
  perListener: Map<unknown, Map<RawSocket, unknown>>;
  /** A placeholder verdict made whole for one listener (analyze.ts forListener): one object per verdict and listener. */
  listenerVerdicts: Map<OptionVerdict, Map<RawSocket, OptionVerdict>>;
  /** Each listener as the report names it (fd, inode, local), one object each. */
  listenerRefs: Map<RawSocket, { fd: number; inode: number; local: RawSocket['local'] }>;
}

/** The caches and facts one capture's analysis shares between its sockets. */
export function context(capture: Capture): Ctx {
  const jvm = capture.process.jvm;
  const v4stack = jvm?.properties['java.net.preferIPv4Stack'] === 'true';
  const sc = capture.host.sysctls;
  const range = parseTriple(sc['net.ipv4.ip_local_port_range']);
  const ctx: Ctx = {
    capture, sysctl: sc, feature: jvm?.feature, v4stack,
    facts: jvm ? jdkFactsFor(jvm.feature) : undefined,
    asyncThreads: jvm?.threads?.asyncGroup,
    listenersByPort: new Map(),
    peerOf: (s) => peerOf(ctx, s),
    portRange: range.length === 2 ? [range[0]!, range[1]!] : undefined,
    wmem: parseTriple(sc['net.ipv4.tcp_wmem']),
    rmem: parseTriple(sc['net.ipv4.tcp_rmem']),
    rowCache: new Map(),
    freshCache: new Map(),
    sysTcp: sysDefaults(sc, true),
    sysUdp: sysDefaults(sc, false),
    rmemMax: parseTriple(sc['net.core.rmem_max'])[0],
    wmemMax: parseTriple(sc['net.core.wmem_max'])[0],
    verdictOf: new Map(),
    dynamicVerdicts: new Map(),
    sharedVerdicts: new Set(),
    withSd: new Map(),
    jdk: capture.jdkDefaults ? withMeasured(capture.jdkDefaults.rows, mappings().jdk) : mappings().jdk,
    inherited: mappings().inherited,
    kinds: new Map(),
    results: new Map(),
    resultCount: 0,
    listenerResults: new Map(),
    perListener: new Map(),
    listenerRefs: new Map(),
    listenerVerdicts: new Map(),
    verdictCache: new Map(),
  };
  for (const l of capture.sockets) {
    if (l.state !== 'LISTEN' || !l.protocol.startsWith('tcp')) continue;
    const same = ctx.listenersByPort.get(l.local.port);
    if (same) same.push(l); else ctx.listenersByPort.set(l.local.port, [l]);
  }
  return ctx;
}

/**
 * Rows measured from the target's JDK (--probe-jdk) in place of the table's for the same kind,
 * family and stack; the table's for kinds the probe does not open (AF_INET channels on a
 * dual-stack JVM, asynchronous channels): a probe never leaves the report knowing less.
 */
function withMeasured(measured: JdkDefaultRow[], table: JdkDefaultRow[]): JdkDefaultRow[] {
  const key = (r: JdkDefaultRow) => `${r.kind}|${/6/.test(String(r.family)) ? 6 : 4}|${r.preferIPv4Stack ? 1 : 0}`;
  const have = new Set(measured.map(key));
  return [...measured, ...table.filter((r) => !have.has(key(r)))];
}

function peerOf(ctx: Ctx, s: RawSocket): RawSocket | undefined {
  if (!ctx.byLocal) {
    ctx.byLocal = new Map();
    for (const t of ctx.capture.sockets) {
      if (!t.protocol.startsWith('tcp') || t.state === 'LISTEN') continue;
      const k = endpointKey(t.local.address, t.local.port);
      const l = ctx.byLocal.get(k);
      if (l) l.push(t); else ctx.byLocal.set(k, [t]);
    }
  }
  const mine = endpointKey(s.local.address, s.local.port);
  return ctx.byLocal.get(endpointKey(s.remote.address, s.remote.port))?.find((t) => t !== s && endpointKey(t.remote.address, t.remote.port) === mine);
}

/** The JDK-defaults row of a kind and family for this capture's JDK, looked up once. */
export function cachedJdkRow(ctx: Ctx, kind: string, family: 4 | 6): JdkDefaultRow | undefined {
  const key = `${kind}|${family}`;
  if (!ctx.rowCache.has(key)) ctx.rowCache.set(key, jdkRow(ctx.jdk, kind, family, ctx.feature, ctx.v4stack));
  return ctx.rowCache.get(key);
}

/** What a fresh socket of this protocol has on the captured host (its measured defaults over mappings/kernel-defaults.json). */
export function freshFor(ctx: Ctx, protocol: Protocol): Record<string, OptionValue> {
  let fresh = ctx.freshCache.get(protocol);
  if (!fresh) {
    fresh = { ...mappings().kernelDefaults, ...(ctx.capture.host.kernelDefaults?.[protocol] ?? {}) };
    ctx.freshCache.set(protocol, fresh);
  }
  return fresh;
}
