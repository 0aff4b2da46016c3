// Kernel values back into Java: the argument a setter takes for a value, and
// the call a given class has for a mappings/java-api.json row: the classic
// setter on the java.net class that has it, else setOption with the key where
// that class's supportedOptions() lists it (mappings/jdk-facts.json, per JDK),
// else the socket() adaptor's setter on a channel that has one; else none.
// Every call string compiles on the class it is written on and sets what it says.
import type { JavaGroup, JavaOption, JdkFacts } from '../mappings.js';
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

/** The channels that have a socket() adaptor, and the java.net class it is. */
const ADAPTOR: Record<string, string> = {
  'java.nio.channels.SocketChannel': 'java.net.Socket',
  'java.nio.channels.ServerSocketChannel': 'java.net.ServerSocket',
  'java.nio.channels.DatagramChannel': 'java.net.DatagramSocket',
};

/** "StandardSocketOptions.IP_TOS" -> "IP_TOS": the name supportedOptions() lists. */
function optionName(key: string): string {
  return key.slice(key.indexOf('.') + 1);
}

/** The class supports the setOption key (unknown JDK facts: as on JDK 17, the oldest measured). */
export function supports(facts: JdkFacts | undefined, cls: string, key: string): boolean {
  const set = facts?.supportedOptions[cls];
  return set ? set.has(optionName(key)) : true;
}

/**
 * The call cls has for row in group g with value v, or undefined when cls cannot set it
 * through Java. preferOption: the setOption spelling where the class has both (one
 * spelling valid on several tied classes).
 */
export function spell(row: JavaOption, g: JavaGroup, cls: string, v: OptionValue, facts: JdkFacts | undefined, preferOption = false): string | undefined {
  const t = row.java[g];
  if (!t) return undefined;
  const arg = javaArg(row, v, false);
  if (row.option === 'backlog') {
    if (cls === 'java.net.ServerSocket') return t.classic?.replaceAll('{v}', arg);
    return t.nioCall?.replaceAll('{v}', arg);
  }
  const net = cls.startsWith('java.net.');
  const classic = t.classic && (!t.classicOn || cls === 'java.net.MulticastSocket') ? t.classic.replaceAll('{v}', arg) : undefined;
  const opt = t.option && supports(facts, cls, t.option) ? `setOption(${t.option}, ${javaArg(row, v, true)})` : undefined;
  if (net) return preferOption ? opt ?? classic : classic ?? opt;
  if (opt) return opt;
  // A channel reaches a classic setter through its socket() adaptor (SO_OOBINLINE has no public key).
  const adaptor = ADAPTOR[cls];
  const ta = t.classic && (!t.classicOn || adaptor === 'java.net.MulticastSocket') ? t.classic.replaceAll('{v}', arg) : undefined;
  return adaptor && ta ? `socket().${ta}` : undefined;
}

/**
 * One call on the classes that tie for a socket (the first is the one named):
 * a spelling valid on every one of them, or the first class's with the one
 * other class's in nio when there are two; undefined when some tied class
 * cannot set it at all (the caller's costs keep such classes out of a tie).
 */
export function tiedCall(row: JavaOption, groups: JavaGroup | JavaGroup[], classes: string[], v: OptionValue, origin: JavaCall['origin'], facts: JdkFacts | undefined): JavaCall | undefined {
  // One group for all, or each class's own (a never-connected socket may be a client's or a listener's).
  const gOf = (i: number): JavaGroup => (typeof groups === 'string' ? groups : groups[i] ?? groups[0]!);
  const g = gOf(0);
  const first = classes[0]!;
  const own = spell(row, g, first, v, facts);
  if (own === undefined) return undefined;
  const spellings = classes.map((c, i) => spell(row, gOf(i), c, v, facts));
  if (spellings.some((s) => s === undefined)) return undefined;
  // A MulticastSocket is a DatagramSocket: a setter both spell alike is named on the class that has it for both.
  const general = first === 'java.net.MulticastSocket' && classes.includes('java.net.DatagramSocket') && spellings[classes.indexOf('java.net.DatagramSocket')] === own;
  const call: JavaCall = { api: general ? 'java.net.DatagramSocket' : first, call: own, origin, options: [row.option] };
  const t = row.java[g];
  if (t?.note) call.note = t.note;
  const others = classes.slice(1).filter((_c, i) => spellings[i + 1] !== own);
  const spellOf = (c: string) => spellings[classes.indexOf(c)]!;
  if (others.length === 0) {
    // One spelling for every tied class: the channel named too, so a reader sees both classes have it.
    const nioCls = classes.find((c) => c !== first && !c.startsWith('java.net.'));
    if (nioCls) call.nio = `${nioCls}.${own}`;
    return call;
  }
  if (others.length === 1) { call.nio = `${others[0]}.${spellOf(others[0]!)}`; return call; }
  // Three ways to say it: the setOption spelling, which every tied class has, else the two the first and second have.
  const opt = classes.map((c, i) => spell(row, gOf(i), c, v, facts, true));
  if (opt.every((s) => s === opt[0] && s!.startsWith('setOption('))) {
    // The channel's spelling is the same call: named too, so the NIO reader finds the class.
    call.call = opt[0]!;
    const nioCls = classes.find((c) => !c.startsWith('java.net.'));
    if (nioCls) call.nio = `${nioCls}.${opt[0]}`;
    return call;
  }
  call.nio = `${others[0]}.${spellOf(others[0]!)}`;
  return call;
}

/** One call can explain two options (setTrafficClass sets IPV6_TCLASS and IP_TOS on a dual-stack socket). */
export function merge(calls: JavaCall[]): JavaCall[] {
  if (calls.length < 2) return calls;
  const out: JavaCall[] = [];
  for (const c of calls) {
    const same = out.find((o) => o.api === c.api && o.call === c.call && o.origin === c.origin && o.from?.fd === c.from?.fd);
    if (same) same.options = [...same.options, ...c.options];
    else out.push(c);
  }
  return out;
}
