// What a fresh socket of a kind has, before any application call: the
// kernel's defaults (the capture's own, else mappings/kernel-defaults.json),
// what the JDK sets by itself (mappings/jdk-defaults.json rows for the
// target's JDK), and the host sysctls a value may equal. Pure functions; the
// per-capture caches are in context.ts.
import { mappings, type JdkDefaultRow } from '../mappings.js';
import type { OptionValue, RawSocket } from '../model/types.js';

/** Equal values: SO_LINGER pairs by enabled, and by seconds only when enabled (the kernel keeps a stale time when off). */
export function same(a: OptionValue | undefined, b: OptionValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (typeof a === 'object' && typeof b === 'object') return a.enabled === b.enabled && (!a.enabled || a.seconds === b.seconds);
  return a === b;
}

/** The JDK-defaults rows for a kind and family that cover the target's JDK (or any version, noted). */
export function jdkRow(table: JdkDefaultRow[], kind: string, family: 4 | 6, feature: number | undefined, v4stack: boolean): JdkDefaultRow | undefined {
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

export function parseTriple(s: string | undefined): number[] {
  return (s ?? '').split(/\s+/).map(Number).filter((n) => Number.isFinite(n));
}

/** What a fresh socket of this kind has: the JDK's value if its row sets one, else the kernel's. */
export function expectedValue(row: JdkDefaultRow | undefined, name: string, fresh: Record<string, OptionValue>): OptionValue | undefined {
  const j = row?.options?.[name];
  return j !== undefined ? (j as OptionValue) : fresh[name];
}

/** The JDK set it: its row has a value that differs from the kernel's. */
export function expectedFromJdk(row: JdkDefaultRow | undefined, name: string, fresh: Record<string, OptionValue>): boolean {
  const j = row?.options?.[name];
  return j !== undefined && !same(j as OptionValue, fresh[name]);
}

/** A sysctl a value may equal: the text (as a number too) and what the report says when it does. */
export interface SysDefault {
  want: string;
  wantNum: number;
  text: string;
}

/** The sysctl each option's value may equal (mappings/sysctl-defaults.json), read once per capture (see systemDefault). */
export function sysDefaults(sc: Record<string, string>, tcp: boolean): Map<string, SysDefault> {
  const out = new Map<string, SysDefault>();
  const proto = tcp ? 'tcp' : 'udp';
  for (const rule of mappings().sysctlRules) {
    if (!rule.protocols.includes(proto)) continue;
    const raw = sc[rule.sysctl];
    if (raw === undefined) continue;
    const want = rule.index === undefined ? raw : String(parseTriple(raw)[rule.index]);
    out.set(rule.option, { want, wantNum: Number(want), text: rule.text.replace('{v}', want) });
  }
  return out;
}

/** net/ipv4/route.c ip_tos2prio (mappings/tos-priority.json): setting IP_TOS also sets sk_priority from the TOS bits. */
export function tosToPriority(tos: number): number {
  return mappings().tosPriority[(tos & 0x1e) >> 1]!;
}

/** Bound (itself, or the listener it came from) to a specific IPv6 address, neither :: nor v4-mapped: __inet6_bind() then sets sk_ipv6only. */
export function boundToIPv6(s: { local: { address: string }; protocol: string }, listener?: RawSocket): boolean {
  const a = (listener ?? s).local.address;
  return s.protocol.endsWith('6') && a !== '::' && !a.startsWith('::ffff:');
}
