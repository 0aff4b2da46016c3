// linux/privdrop.ts: the argv that runs the probe and the observe helper as a
// target's user, and the three points where the two differ on purpose.
import { describe, expect, it } from 'vitest';
import { ObserveError, ProbeError } from '../../src/errors.js';
import { runAsArgv } from '../../src/linux/privdrop.js';

const root = process.geteuid?.() === 0;
const user = { uid: 61616, gid: 61617, groups: [5, 61617] };

describe.runIf(root)('runAsArgv as root', () => {
  it('the probe: that uid, gid and groups, no capabilities, no_new_privs, killed with the tool', () => {
    expect(runAsArgv(user, 'probe').slice(1)).toEqual(['--reuid=61616', '--regid=61617', '--groups=5,61617', '--bounding-set=-all', '--inh-caps=-all', '--no-new-privs', '--pdeathsig=SIGKILL', '--']);
    expect(runAsArgv({ uid: 0, gid: 0, groups: [] }, 'probe').slice(1)).toEqual(['--reuid=0', '--regid=0', '--clear-groups', '--bounding-set=-all', '--inh-caps=-all', '--no-new-privs', '--pdeathsig=SIGKILL', '--']);
  });
  it('the observe helper: the same drop, but no parent-death signal, and a root JVM keeps root', () => {
    expect(runAsArgv(user, 'observe-helper').slice(1)).toEqual(['--reuid=61616', '--regid=61617', '--groups=5,61617', '--bounding-set=-all', '--inh-caps=-all', '--no-new-privs', '--']);
    expect(runAsArgv({ uid: 0, gid: 0, groups: [] }, 'observe-helper').slice(1)).toEqual(['--reuid=0', '--regid=0', '--clear-groups', '--no-new-privs', '--']);
    expect(runAsArgv(user, 'observe-helper')[0]).toMatch(/^\/(usr\/)?s?bin\/setpriv$/);
  });
});

describe.runIf(!root)('runAsArgv as an ordinary user', () => {
  const me = { uid: process.geteuid!(), gid: process.getegid!(), groups: [] };
  it('runs as itself with no_new_privs only; refuses anyone else, each use with its own error', () => {
    expect(runAsArgv(me, 'observe-helper').slice(1)).toEqual(['--inh-caps=-all', '--no-new-privs', '--']);
    expect(() => runAsArgv({ ...me, uid: me.uid + 1 }, 'probe')).toThrow(ProbeError);
    expect(() => runAsArgv({ ...me, uid: me.uid + 1 }, 'observe-helper')).toThrow(ObserveError);
    expect(() => runAsArgv({ ...me, gid: me.gid + 1 }, 'observe-helper')).toThrow(ObserveError); // HotSpot checks the egid too
  });
});
