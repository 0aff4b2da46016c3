// Per-option verdicts: kernel default, JDK default, application, autotuned
// (buffers), or unknown, with how sure and which sysctl a value equals. Equal
// verdicts are one shared, read-only object (built once per capture, not once
// per socket), and a socket's verdicts object has fast properties.
import type { JavaOption } from '../mappings.js';
import type { OptionValue, OptionVerdict, RawSocket, Role } from '../model/types.js';
import type { Ctx } from './context.js';
import { same } from './defaults.js';

/** Which sysctl a value equals, in words: the value's text equals the sysctl's. */
export function systemDefault(ctx: Ctx, name: string, s: RawSocket, v: OptionValue): string | undefined {
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
export function bufferVerdict(name: string, s: RawSocket, v: number, fresh: number | undefined, r: Role, ctx: Ctx): OptionVerdict {
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
export function constVerdict(ctx: Ctx, key: string, make: () => OptionVerdict): OptionVerdict {
  let v = ctx.verdictOf.get(key);
  if (!v) { ctx.verdictOf.set(key, (v = make())); ctx.sharedVerdicts.add(v); }
  return v;
}

/** An option that changes by itself (TCP_QUICKACK, TCP_MAXSEG): one verdict per option. */
export function dynamicVerdict(ctx: Ctx, row: JavaOption): OptionVerdict {
  let v = ctx.dynamicVerdicts.get(row);
  if (!v) { ctx.dynamicVerdicts.set(row, (v = { origin: 'unknown', note: row.dynamic })); ctx.sharedVerdicts.add(v); }
  return v;
}

/** A shared verdict with a systemDefault added last (as setting it on a fresh verdict did), itself shared. */
export function withSystemDefault(ctx: Ctx, v: OptionVerdict, sd: string): OptionVerdict {
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

/** One object per distinct verdict (same fields, same order, same values): read-only from here on. */
export function shared(cache: Map<string, OptionVerdict>, v: OptionVerdict): OptionVerdict {
  let key = '';
  for (const k in v) key += `${k}\u0000${(v as unknown as Record<string, unknown>)[k]}\u0001`;
  const have = cache.get(key);
  if (have) return have;
  cache.set(key, v);
  return v;
}

/**
 * Verdicts objects with fast properties: ~26 keyed stores into {} leave V8 a
 * dictionary (larger, and slower to walk when the report is written). The
 * verdicts go into a scratch array by mapping row, then onto a copy of a
 * template with exactly those keys in that order, one template per key set.
 */
export const verdictScratch: (OptionVerdict | undefined)[] = [];
const verdictTemplates = new Map<number, Record<string, OptionVerdict | undefined>>();
const POW2 = Array.from({ length: 53 }, (_, i) => 2 ** i);

export function verdictsObject(rows: JavaOption[]): Record<string, OptionVerdict> {
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

