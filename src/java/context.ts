// The state one capture's analysis shares between its sockets: what the
// capture says once (JVM, sysctls, listeners by port) and the caches that let
// 50,000 sockets share rows, kinds and verdicts instead of building them each.
import { mappings, type JavaOption, type JdkDefaultRow } from '../mappings.js';
import type { Capture, OptionValue, OptionVerdict, Protocol, RawSocket } from '../model/types.js';
import { jdkRow, parseTriple, sysDefaults, type SysDefault } from './defaults.js';

/** A kind of Java socket that could have made a socket of some role and family, with its JDK-defaults row. */
export interface KindRow {
  kind: string;
  api: string;
  row: JdkDefaultRow | undefined;
}

/** Per (role, family): the kinds, and what is known about them before any socket is seen. */
export interface RoleFamily {
  kinds: KindRow[];
  /** Some kind has a JDK row: a kind without one cannot have made the socket. */
  anyRow: boolean;
  /** apis by the bit set of kinds that tie for best: one shared, read-only array per set. */
  apis: (string[] | undefined)[];
  /** [best][alt]: rows an "or a <alt> on which ..." hint can name (the two kinds' defaults differ). */
  altRows: (JavaOption[] | undefined)[][];
}

/** One capture's analysis state. */
export interface Ctx {
  capture: Capture;
  sysctl: Record<string, string>;
  feature?: number;
  v4stack: boolean;
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
  /** mappings/inherited-options.json. */
  inherited: Set<string>;
}

/** The caches and facts one capture's analysis shares between its sockets. */
export function context(capture: Capture): Ctx {
  const jvm = capture.process.jvm;
  const v4stack = jvm?.properties['java.net.preferIPv4Stack'] === 'true';
  const listeners = capture.sockets.filter((s) => s.state === 'LISTEN');
  const sc = capture.host.sysctls;
  const ctx: Ctx = {
    capture, sysctl: sc, feature: jvm?.feature, v4stack,
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
    inherited: mappings().inherited,
  };
  for (const l of listeners) {
    const same = ctx.listenersByPort.get(l.local.port);
    if (same) same.push(l); else ctx.listenersByPort.set(l.local.port, [l]);
  }
  return ctx;
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
