// linux/cgroup.ts on hand-written /proc/cgroups texts: which controllers that
// stamp sockets are bound to a cgroup v1 hierarchy (the pidfd guard of
// capture.ts and host/all.ts rests on it). The host's own mount is the
// host-global project's (test/host-global/netcls.test.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { socketStampingControllers } from '../../src/linux/cgroup.js';

const dir = mkdtempSync(join(tmpdir(), 'knj-security-port-cgroups-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cgroups(rows: [string, number, number][]): string {
  const f = join(dir, `cgroups-${rows.map((r) => r.join('.')).join('-')}`);
  writeFileSync(f, `#subsys_name\thierarchy\tnum_cgroups\tenabled\n${rows.map(([n, h, e]) => `${n}\t${h}\t1\t${e}`).join('\n')}\n`);
  return f;
}

describe('socketStampingControllers', () => {
  it('none while net_cls and net_prio are on no v1 hierarchy (cgroup v2 only)', () => {
    expect(socketStampingControllers(cgroups([['cpu', 1, 1], ['net_cls', 0, 1], ['net_prio', 0, 1]]))).toEqual([]);
  });
  it('each one bound to a v1 hierarchy, alone or together', () => {
    expect(socketStampingControllers(cgroups([['net_cls', 274, 1], ['net_prio', 274, 1]]))).toEqual(['net_cls', 'net_prio']);
    expect(socketStampingControllers(cgroups([['net_cls', 0, 1], ['net_prio', 9, 1]]))).toEqual(['net_prio']);
  });
  it('a disabled controller stamps nothing; no /proc/cgroups: a kernel without v1', () => {
    expect(socketStampingControllers(cgroups([['net_cls', 3, 0]]))).toEqual([]);
    expect(socketStampingControllers(join(dir, 'absent'))).toEqual([]);
  });
});
