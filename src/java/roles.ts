// Which role a socket plays (listening, accepted, connected, UDP) and which
// Java class most simply explains it: the kinds of mappings/socket-kinds.json,
// ranked by how many application calls each would need.
import { mappings, type JavaOption } from '../mappings.js';
import type { OptionValue, RawSocket, Role } from '../model/types.js';
import { cachedJdkRow, type Ctx, type RoleFamily } from './context.js';
import { expectedValue, same } from './defaults.js';

export function role(s: RawSocket, listeners: RawSocket[] | undefined): { role: Role; listener?: RawSocket } {
  if (s.protocol.startsWith('udp')) return ROLE_UDP;
  if (s.state === 'LISTEN') return ROLE_LISTENING;
  if (listeners) {
    for (const l of listeners) {
      if (l.local.port === s.local.port && l.protocol === s.protocol &&
        (l.local.address === s.local.address || l.local.address === '0.0.0.0' || l.local.address === '::')) return { role: 'accepted', listener: l };
    }
  }
  return ROLE_CONNECTED;
}
const ROLE_UDP = { role: 'udp' as Role }, ROLE_LISTENING = { role: 'listening' as Role }, ROLE_CONNECTED = { role: 'connected' as Role };

export function roleFamily(ctx: Ctx, r: Role, family: 4 | 6): RoleFamily {
  const key = `${r}|${family}`;
  let rf = ctx.roleFamily.get(key);
  if (!rf) {
    const kinds = mappings().kinds[r].kinds.map((k) => ({ kind: k.kind, api: k.api, row: cachedJdkRow(ctx, k.kind, family) }));
    rf = { kinds, anyRow: kinds.some((k) => k.row), apis: [], altRows: kinds.map(() => []) };
    ctx.roleFamily.set(key, rf);
  }
  return rf;
}

/**
 * Rows on which a socket that has the best kind's default would differ from the
 * alternative kind's: only those can name a call the alternative needed (same()
 * is an equivalence, so value = best's default and value != alt's default
 * holds exactly when both defaults differ and the value equals best's).
 */
export function altRowsFor(rf: RoleFamily, bi: number, ai: number, fresh: Record<string, OptionValue>): JavaOption[] {
  let rows = rf.altRows[bi]![ai];
  if (!rows) {
    const best = rf.kinds[bi]!.row, alt = rf.kinds[ai]!.row;
    rows = mappings().java.options.filter((row) => !row.dynamic && row.option !== 'backlog' && !/BUF$/.test(row.option)
      && !same(expectedValue(alt, row.option, fresh), expectedValue(best, row.option, fresh))
      && expectedValue(best, row.option, fresh) !== undefined);
    rf.altRows[bi]![ai] = rows;
  }
  return rows;
}

/**
 * Cost of each kind: how many options differ from what it leaves on a fresh
 * socket (the application's calls it needs). A kind expects the kernel's value
 * except where its JDK row sets one, so: the differences from the kernel's
 * defaults, counted once, corrected on each kind's few JDK-set options.
 */
export function kindCosts(s: RawSocket, rf: RoleFamily, fresh: Record<string, OptionValue>, costs: number[]): void {
  const options = s.options;
  let base = 0;
  for (const n in options) {
    const value = options[n]!.value;
    if (value !== null && n !== 'backlog' && !same(value, fresh[n])) base++;
  }
  for (let i = 0; i < rf.kinds.length; i++) {
    const row = rf.kinds[i]!.row;
    let c = rf.anyRow && !row ? Infinity : base;
    const jdk = row?.options;
    if (jdk) {
      for (const n in jdk) {
        const j = jdk[n] as OptionValue | undefined;
        const reading = n === 'backlog' ? undefined : options[n];
        if (j === undefined || reading === undefined || reading.value === null) continue;
        c += (same(reading.value, j) ? 0 : 1) - (same(reading.value, fresh[n]) ? 0 : 1);
      }
    }
    costs[i] = c;
  }
}
