// The package as a user installs it (issue 11, item 13): `npm pack`, then
// `npm install -g` of the tarball into a private prefix, then the installed
// command. --probe-jdk needs its probe classes (built by `npm run build` into
// dist/probe, shipped in "files"), and nothing from the source tree.
// KNETSTAT_PACKAGE_ROOT=<another checkout, built> packs that one instead.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startJvm, type Jvm } from './helpers/jvm.js';
import { AS_HOSTILE, HOSTILE_UID, removeAll } from './helpers/hostile.js';

const PACKAGE_ROOT = process.env.KNETSTAT_PACKAGE_ROOT ?? ROOT;

describe('the installed package', () => {
  let dir: string;
  let bin: string;
  let files: string[];
  let jvm: Jvm;
  beforeAll(async () => {
    dir = mkdtempSync('/tmp/knj-security-a-package-');
    execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
    files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    execFileSync('npm', ['install', '-g', '--prefix', join(dir, 'prefix'), '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { stdio: ['ignore', 'ignore', 'inherit'] });
    bin = join(dir, 'prefix', 'bin', 'knetstat-java');
    jvm = await startJvm('SocketLab', ['s:server', 'u:udp']);
  }, 300_000);
  afterAll(async () => {
    await jvm?.stop();
    if (dir) removeAll(dir);
  });

  it('ships the probe class files, not the source tree', () => {
    expect(files).toContain('package/dist/probe/SocketLab.class');
    expect(files.filter((f) => f.startsWith('package/samples/') || f.startsWith('package/test/') || f.startsWith('package/src/'))).toEqual([]);
  });

  it('the command is the bundle (dist/start.cjs: dist/bundle.cjs with its V8 code cache), shipped with koffi.node', () => {
    for (const f of ['dist/start.cjs', 'dist/bundle.cjs', 'dist/bundle.cjs.cache', 'dist/bundle-assets/koffi.node']) expect(files).toContain(`package/${f}`);
    expect(realpathSync(bin).endsWith('/dist/start.cjs')).toBe(true);
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version);
    // What a build leaves for itself is not shipped.
    expect(files.filter((f) => /\/(sea|knetstat-java)$|\.meta\.json$/.test(f) || f.startsWith('package/dist/sea/'))).toEqual([]);
  });

  it('--probe-jdk works from the installed command, for a root JVM and for an ordinary user\'s', async () => {
    const theirs = await startJvm('SocketLab', ['s:server'], { wrapper: AS_HOSTILE, jvmArgs: ['-XX:-UsePerfData'] });
    try {
      for (const pid of [jvm.pid, theirs.pid]) {
        const r = spawnSync(bin, [String(pid), '--probe-jdk', '-f', 'json'], { encoding: 'utf8', cwd: dir, env: { ...process.env, CI: 'true' } });
        expect(r.status, r.stderr).toBe(0);
        const j = JSON.parse(r.stdout);
        expect(j.defaults.note).toMatch(/measured from the target's own JDK: live probe of \//);
        expect(j.process.uid).toBe(pid === jvm.pid ? 0 : HOSTILE_UID);
      }
    } finally {
      await theirs.stop();
    }
  });
});
