// The shape of JSON we read from files (snapshots, policies), checked before
// any code uses it: a small schema language instead of a pile of ifs, with
// one-line errors that name the field ("capture.sockets[3].options.TCP_NODELAY.value:
// expected a number, string or linger object, got {}"). The walk follows the
// schema, so its depth is the schema's; the document's own depth is bounded
// before parsing (parseJson), so nothing a hostile file nests can overflow the
// stack of the code that later walks it (JSON.stringify, the renderers).
import { FormatError } from './errors.js';

export type Schema =
  | { kind: 'string'; pattern?: RegExp; patternName?: string; maxLength?: number }
  | { kind: 'number'; integer?: boolean; min?: number; max?: number }
  | { kind: 'boolean' }
  | { kind: 'null' }
  | { kind: 'enum'; values: readonly (string | number)[] }
  | { kind: 'array'; items: Schema }
  | { kind: 'object'; fields: Record<string, Field>; extra?: 'ignore' | 'reject'; name?: string }
  | { kind: 'record'; keys?: RegExp; keyName?: string; values: Schema }
  | { kind: 'oneOf'; options: Schema[]; name: string }
  | { kind: 'any' };

export type Field = Schema & { optional?: boolean; default?: () => unknown };

export const str = (o: Omit<Extract<Schema, { kind: 'string' }>, 'kind'> = {}): Schema => ({ kind: 'string', ...o });
export const num = (o: Omit<Extract<Schema, { kind: 'number' }>, 'kind'> = {}): Schema => ({ kind: 'number', ...o });
export const int = (o: Omit<Extract<Schema, { kind: 'number' }>, 'kind' | 'integer'> = {}): Schema => ({ kind: 'number', integer: true, ...o });
export const bool = (): Schema => ({ kind: 'boolean' });
export const nul = (): Schema => ({ kind: 'null' });
export const oneOfValues = (values: readonly (string | number)[]): Schema => ({ kind: 'enum', values });
export const arr = (items: Schema): Schema => ({ kind: 'array', items });
export const obj = (fields: Record<string, Field>, extra: 'ignore' | 'reject' = 'ignore', name?: string): Schema => ({ kind: 'object', fields, extra, name });
export const rec = (values: Schema, keys?: RegExp, keyName?: string): Schema => ({ kind: 'record', values, keys, keyName });
export const oneOf = (name: string, ...options: Schema[]): Schema => ({ kind: 'oneOf', options, name });
export const any = (): Schema => ({ kind: 'any' });
/** An optional field; with a default, an absent one is filled in. */
export const opt = (s: Schema, dflt?: () => unknown): Field => ({ ...s, optional: true, ...(dflt ? { default: dflt } : {}) });

/** A value as one line for an error message: JSON, cut to 60 characters. */
export function preview(v: unknown): string {
  let t: string;
  try {
    t = JSON.stringify(v) ?? String(v);
  } catch {
    t = Array.isArray(v) ? '[...]' : '{...}';
  }
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
}

function describe(s: Schema): string {
  switch (s.kind) {
    case 'string': return s.patternName ?? 'a string';
    case 'number': return s.integer ? 'an integer' : 'a number';
    case 'boolean': return 'true or false';
    case 'null': return 'null';
    case 'enum': return `one of ${s.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'array': return 'a list';
    case 'object': return s.name ?? 'an object';
    case 'record': return 'an object';
    case 'oneOf': return s.name;
    case 'any': return 'a value';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A copy of a path segment fit for a message. */
function key(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${preview(k)}]`;
}

/** Does v fit s? On success, defaults are filled in (v is changed in place); on failure, the first bad field and why. */
function check(v: unknown, s: Schema, at: string): { at: string; why: string } | undefined {
  const bad = (why?: string) => ({ at, why: why ?? `expected ${describe(s)}, got ${preview(v)}` });
  switch (s.kind) {
    case 'any': return undefined;
    case 'string':
      if (typeof v !== 'string') return bad();
      if (s.maxLength !== undefined && v.length > s.maxLength) return bad(`longer than ${s.maxLength} characters`);
      if (s.pattern && !s.pattern.test(v)) return bad();
      return undefined;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) return bad();
      if (s.integer && !Number.isInteger(v)) return bad();
      if ((s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) return bad(`${v} is out of range ${s.min ?? ''}..${s.max ?? ''}`);
      return undefined;
    case 'boolean': return typeof v === 'boolean' ? undefined : bad();
    case 'null': return v === null ? undefined : bad();
    case 'enum': return s.values.includes(v as string | number) ? undefined : bad();
    case 'array': {
      if (!Array.isArray(v)) return bad();
      for (let i = 0; i < v.length; i++) {
        const e = check(v[i], s.items, `${at}[${i}]`);
        if (e) return e;
      }
      return undefined;
    }
    case 'object': {
      if (!isPlainObject(v)) return bad();
      for (const [k, f] of Object.entries(s.fields)) {
        if (!Object.hasOwn(v, k) || v[k] === undefined) {
          if (f.default) v[k] = f.default();
          else if (!f.optional) return { at: `${at}${key(k)}`, why: `missing (expected ${describe(f)})` };
          continue;
        }
        const e = check(v[k], f, `${at}${key(k)}`);
        if (e) return e;
      }
      if (s.extra === 'reject') {
        for (const k of Object.keys(v)) if (!Object.hasOwn(s.fields, k)) return { at: `${at}${key(k)}`, why: `unknown key (known: ${Object.keys(s.fields).join(', ')})` };
      }
      return undefined;
    }
    case 'record': {
      if (!isPlainObject(v)) return bad();
      for (const [k, x] of Object.entries(v)) {
        if (s.keys && !s.keys.test(k)) return { at: `${at}${key(k)}`, why: `not ${s.keyName ?? 'a valid key'}` };
        const e = check(x, s.values, `${at}${key(k)}`);
        if (e) return e;
      }
      return undefined;
    }
    case 'oneOf':
      // The schemas here put objects with defaults in no oneOf, so trying an option changes nothing.
      return s.options.some((o) => check(v, o, at) === undefined) ? undefined : bad();
  }
}

/** v as T, or FormatError "<origin>: <field>: <why>" (exit 2). */
export function validate<T>(v: unknown, s: Schema, origin: string, root: string, suffix = ''): T {
  const e = check(v, s, root);
  if (e) throw new FormatError(`${origin}: ${e.at}: ${e.why}${suffix}`);
  return v as T;
}

/** The deepest nesting of arrays and objects in a JSON text, counted without recursion (stops counting past max). */
export function jsonDepth(text: string, max: number): number {
  let depth = 0, deepest = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) { if (++depth > deepest && (deepest = depth) > max) return deepest; }
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** JSON.parse of a document nested at most maxDepth deep; deeper is a FormatError, before any parsing. */
export function parseJson(text: string, origin: string, maxDepth: number): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth) throw new FormatError(`${origin}: nested more than ${maxDepth} levels deep: not a document this tool writes or reads`);
  return JSON.parse(text);
}
