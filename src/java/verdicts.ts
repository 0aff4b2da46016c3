// Per-option verdicts: kernel default, JDK default, application, autotuned
// (buffers: java/buffers.ts), or unknown, with how sure and which sysctl a value equals. Equal
// verdicts are one shared, read-only object (built once per capture, not once
// per socket), and a socket's verdicts object has fast properties.
import type { JavaOption } from '../mappings.js';
import type { OptionValue, OptionVerdict, RawSocket } from '../model/types.js';
import type { Ctx } from './context.js';

/** Which sysctl a value equals, in words: the value's text equals the sysctl's. */
export function systemDefault(ctx: Ctx, name: string, s: RawSocket, v: OptionValue): string | undefined {
  const d = (s.protocol.startsWith('tcp') ? ctx.sysTcp : ctx.sysUdp).get(name);
  if (d === undefined) return undefined;
  // String(v) === want, without making the string: a number's text is want exactly when it is the number want reads as and want is that number's own text.
  if (typeof v === 'number') return v === d.wantNum && String(d.wantNum) === d.want ? d.text : undefined;
  return String(v) === d.want ? d.text : undefined;
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

