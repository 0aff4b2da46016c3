// The metadata event of a JFR chunk: a string table and a tree of elements
// (root > metadata > class > field/annotation/setting, root > region) that
// describes every type the chunk's events and constant pools use
// (jdk.jfr.internal.MetadataReader). We keep, per class, what decoding needs:
// its name and its fields in order, each with its type, array-ness and
// whether the value is a constant-pool reference.
import type { ByteReader, PoolKey } from './reader.js';

export interface FieldDesc {
  name: string;
  typeId: PoolKey;
  array: boolean;
  constantPool: boolean;
}

export interface ClassDesc {
  id: PoolKey;
  name: string;
  superType?: string;
  fields: FieldDesc[];
}

export interface Metadata {
  classes: Map<PoolKey, ClassDesc>;
  byName: Map<string, ClassDesc>;
}

interface Element {
  name: string;
  attrs: Map<string, string>;
  children: Element[];
}

const MAX_DEPTH = 16;

/** Bounds for a sane metadata event: JDK 25's has ~2,000 strings and ~300 classes. */
const MAX_STRINGS = 1_000_000;

function toKey(s: string | undefined, r: ByteReader, what: string): PoolKey {
  if (s === undefined || !/^[0-9]{1,19}$/.test(s)) r.fail(`metadata ${what} '${String(s).slice(0, 40)}' is not a type id`);
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : s;
}

/**
 * Reads a metadata event's body; r is positioned after its type id and ends
 * at the event's end.
 */
export function readMetadata(r: ByteReader): Metadata {
  r.long(); // start time
  r.long(); // duration
  r.long(); // metadata id
  const n = r.count('metadata string count', Math.min(MAX_STRINGS, r.end - r.pos));
  const strings: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const s = r.string();
    if (typeof s !== 'string') r.fail('metadata string table holds a null');
    strings[i] = s;
  }
  const str = (): string => strings[r.count('metadata string index', n - 1)]!;
  let elements = 0;
  const element = (depth: number): Element => {
    if (depth > MAX_DEPTH) r.fail('metadata elements nested too deep');
    if (++elements > 10_000_000) r.fail('too many metadata elements');
    const name = str();
    const attrs = new Map<string, string>();
    const na = r.count('metadata attribute count', r.end - r.pos);
    for (let i = 0; i < na; i++) {
      const k = str();
      attrs.set(k, str());
    }
    const nc = r.count('metadata child count', r.end - r.pos);
    const children: Element[] = [];
    for (let i = 0; i < nc; i++) children.push(element(depth + 1));
    return { name, attrs, children };
  };
  const root = element(0);
  const meta = root.children.find((e) => e.name === 'metadata');
  if (!meta) r.fail('metadata event without a metadata element');
  const classes = new Map<PoolKey, ClassDesc>();
  const byName = new Map<string, ClassDesc>();
  for (const c of meta.children) {
    if (c.name !== 'class') continue;
    const name = c.attrs.get('name');
    if (!name) r.fail('metadata class without a name');
    const id = toKey(c.attrs.get('id'), r, 'class id');
    const fields: FieldDesc[] = [];
    for (const f of c.children) {
      if (f.name !== 'field') continue;
      const fname = f.attrs.get('name');
      if (!fname) r.fail(`field without a name in ${name}`);
      fields.push({
        name: fname,
        typeId: toKey(f.attrs.get('class'), r, `type of ${name}.${fname}`),
        array: (f.attrs.get('dimension') ?? '0') === '1',
        constantPool: f.attrs.get('constantPool') === 'true',
      });
    }
    const desc: ClassDesc = { id, name, fields, ...(c.attrs.get('superType') ? { superType: c.attrs.get('superType') } : {}) };
    classes.set(id, desc);
    byName.set(name, desc);
  }
  for (const c of classes.values()) {
    for (const f of c.fields) if (!classes.has(f.typeId)) r.fail(`field ${c.name}.${f.name} has an undeclared type ${f.typeId}`);
  }
  return { classes, byName };
}
