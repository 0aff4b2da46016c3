// mappings/libraries.json: which library a stack frame's class belongs to.
import { readFileSync } from 'node:fs';

export interface LibraryRow {
  prefix: string;
  library: string;
  /** An I/O helper other libraries build on (Okio under OkHttp): a deeper non-io match wins. */
  layer?: 'io';
  source: string;
}

let rows: LibraryRow[] | undefined;

/** The table, longest prefix first. */
export function libraryTable(): LibraryRow[] {
  if (!rows) {
    const t = JSON.parse(readFileSync(new URL('../../mappings/libraries.json', import.meta.url), 'utf8')) as { rows: LibraryRow[] };
    rows = [...t.rows].sort((a, b) => b.prefix.length - a.prefix.length);
  }
  return rows;
}

/** The row whose prefix names this class's package (or the class itself, or an enclosing class). */
export function libraryRow(className: string, table = libraryTable()): LibraryRow | undefined {
  for (const r of table) {
    if (!className.startsWith(r.prefix)) continue;
    const next = className.charAt(r.prefix.length);
    if (next === '' || next === '.' || next === '$') return r;
  }
  return undefined;
}

/**
 * The library that reads, from a stack (top frame first): the first frame
 * that belongs to a library in the table; an io-layer library only when no
 * other library appears below it.
 */
export function libraryOf(classNames: readonly string[], table = libraryTable()): string | undefined {
  let io: string | undefined;
  for (const c of classNames) {
    const r = libraryRow(c, table);
    if (!r) continue;
    if (r.layer !== 'io') return r.library;
    io ??= r.library;
  }
  return io;
}
