// Hints, never facts: framework defaults a value matches
// (mappings/framework-hints.json).
import { mappings } from '../mappings.js';
import type { RawSocket, Role } from '../model/types.js';

/** mappings/framework-hints.json: values that point to a framework's default. Hints, never facts. */
export function frameworkHints(s: RawSocket, r: Role, sc: Record<string, string>, out: string[]): void {
  for (const h of mappings().hints) {
    if (h.roles && !h.roles.includes(r)) continue;
    const v = s.options[h.option]?.value;
    if (v === undefined || v === null) continue;
    const { value, lingerMultipleOf } = h.match;
    if (value !== undefined) {
      const want = value === 'somaxconn' ? Number(sc['net.core.somaxconn']) : value;
      if (v !== want) continue;
    }
    if (lingerMultipleOf !== undefined) {
      if (typeof v !== 'object' || !v.enabled || v.seconds === 0 || v.seconds % lingerMultipleOf !== 0) continue;
      out.push(h.hint.replace('{linger/1000}', String(v.seconds / lingerMultipleOf)));
      continue;
    }
    out.push(h.hint);
  }
}
