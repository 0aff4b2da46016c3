// Which library a stack frame's class belongs to, by the table
// mappings/libraries.json (loaded by mappings.ts).
import { mappings, type LibraryRow } from '../mappings.js';

export type { LibraryRow } from '../mappings.js';

/** The table, longest prefix first. */
export function libraryTable(): LibraryRow[] {
  return mappings().libraries;
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
