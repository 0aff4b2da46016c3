// Kernel values back into Java: the argument a setter takes for a value,
// the call (classic java.net setter, setOption key, or NIO spelling) from a
// mappings/java-api.json row, and one call explaining two options.
import type { JavaGroup, JavaOption } from '../mappings.js';
import type { JavaCall, OptionValue } from '../model/types.js';

export function show(v: OptionValue): string {
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

export function makeCall(row: JavaOption, group: JavaGroup, api: string, nioApi: string, v: OptionValue, origin: JavaCall['origin'], isMulticast: boolean): JavaCall | undefined {
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

/** One call can explain two options (setTrafficClass sets IPV6_TCLASS and IP_TOS on a dual-stack socket). */
export function merge(calls: JavaCall[]): JavaCall[] {
  if (calls.length < 2) return calls;
  const out: JavaCall[] = [];
  for (const c of calls) {
    const same = out.find((o) => o.api === c.api && o.call === c.call && o.origin === c.origin);
    if (same) same.options = [...same.options, ...c.options];
    else out.push(c);
  }
  return out;
}
