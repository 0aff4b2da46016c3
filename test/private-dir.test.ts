// The single executable's private directory (src/bundle/private-dir.ts): where
// koffi.node is written before dlopen, on a host shared with hostile users.
// As root, other users are played with chown (the checks look at owners and
// modes, not at who we are).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateDir, unsafeBase } from '../src/bundle/private-dir.js';
import { mountOf, parseMountinfo } from '../src/linux/mountinfo.js';

const root = process.getuid?.() === 0;
let work: string;
beforeEach(() => { work = mkdtempSync(join(tmpdir(), 'exe-privdir-')); });
afterEach(() => { rmSync(work, { recursive: true, force: true }); });

describe('unsafeBase', () => {
  it('accepts /tmp (sticky) and a 0700 directory of ours', () => {
    expect(unsafeBase('/tmp')).toBeUndefined();
    expect(unsafeBase(work)).toBeUndefined();
  });

  it('refuses a directory others may write into without the sticky bit', () => {
    chmodSync(work, 0o777);
    expect(unsafeBase(work)).toMatch(/writable by others/);
    chmodSync(work, 0o1777);
    expect(unsafeBase(work)).toBeUndefined();
  });

  it.skipIf(!root)('refuses a directory of another user, and anything below one (they could rename it away)', () => {
    const theirs = join(work, 'theirs');
    mkdirSync(join(theirs, 'mine'), { recursive: true });
    chownSync(theirs, 65534, 65534);
    expect(unsafeBase(theirs)).toMatch(/owned by uid 65534/);
    expect(unsafeBase(join(theirs, 'mine'))).toMatch(/owned by uid 65534/);
  });

  it('judges where a symlink leads, not the link', () => {
    const target = join(work, 'open');
    mkdirSync(target, { mode: 0o777 });
    chmodSync(target, 0o777);
    symlinkSync(target, join(work, 'link'));
    expect(unsafeBase(join(work, 'link'))).toMatch(/writable by others/);
    expect(unsafeBase(join(work, 'absent'))).toBe('does not exist');
  });
});

describe('PrivateDir', () => {
  it('is a fresh 0700 directory of ours; a file is written exclusively, checked, and removed with the last release', () => {
    const d = PrivateDir.create([work]);
    expect(d.path.startsWith(join(work, 'knetstat-java-'))).toBe(true);
    const st = statSync(d.path);
    expect(st.mode & 0o7777).toBe(0o700);
    expect(st.uid).toBe(process.geteuid!());
    const bytes = Buffer.from('not really an ELF file');
    const file = d.write('koffi.node', bytes);
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o500);
    expect(() => d.write('koffi.node', bytes)).toThrow(/EEXIST/);
    expect(d.release('koffi.node')).toBe(true);
    expect(existsSync(d.path)).toBe(false);
  });

  it('refuses names that leave the directory', () => {
    const d = PrivateDir.create([work]);
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a//b', '.']) expect(() => d.write(bad, Buffer.from('x'))).toThrow(/bad asset name/);
    d.remove();
  });

  it('skips unsafe bases and says why when none is left', () => {
    const open = join(work, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const d = PrivateDir.create([open, work]);
    expect(d.path.startsWith(join(work, 'knetstat-java-'))).toBe(true);
    d.remove();
    expect(readdirSync(open)).toEqual([]);
    expect(() => PrivateDir.create([open, join(work, 'absent')])).toThrow(/no private place to unpack.*open: .*writable by others.*absent: does not exist/);
  });
});

describe('mountinfo', () => {
  const text = [
    '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
    '60 27 0:50 / /tmp rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw',
    '61 27 0:51 / /mnt/a\\040b rw - tmpfs tmpfs rw',
    '62 60 0:52 / /tmp rw,relatime shared:7 - tmpfs tmpfs rw',
  ].join('\n');

  it('finds the mount of a path: longest prefix, the last of stacked mounts, escaped names', () => {
    const m = parseMountinfo(text);
    expect(mountOf('/tmp/x', m)?.options).not.toContain('noexec');
    expect(mountOf('/tmpx', m)?.mountPoint).toBe('/');
    expect(mountOf('/mnt/a b/c', m)?.mountPoint).toBe('/mnt/a b');
    expect(mountOf('/var', m)?.fsType).toBe('ext4');
  });

  it('reads this machine', () => {
    expect(mountOf('/')?.mountPoint).toBe('/');
  });
});
