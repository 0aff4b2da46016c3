// JDK detection: java.home from /proc/<pid>/maps, version from <home>/release.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { featureOf, javaHomeFromLibjvm, javaHomeFromMaps, libjvmFromMaps, parseRelease, readJdkVersion } from '../src/java/jdkversion.js';
import { startJvm, type Jvm } from './helpers/jvm.js';

const tmp = mkdtempSync(join(tmpdir(), 'jdkversion-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('release file', () => {
  it('parses KEY="value" lines', () => {
    expect(parseRelease('IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="21.0.2"\nOS_ARCH=x86_64\n\n# comment\n')).toEqual({
      IMPLEMENTOR: 'Eclipse Adoptium', JAVA_VERSION: '21.0.2', OS_ARCH: 'x86_64',
    });
  });

  it('takes the feature release from every version style', () => {
    expect(featureOf('17.0.15')).toBe(17);
    expect(featureOf('21')).toBe(21);
    expect(featureOf('22-ea')).toBe(22);
    expect(featureOf('1.8.0_392')).toBe(8);
    expect(featureOf('garbage')).toBeUndefined();
  });

  it('reads a JDK 9+ home and a JDK 8 jre/ home', () => {
    const jdk17 = join(tmp, 'jdk17');
    mkdirSync(jdk17);
    writeFileSync(join(jdk17, 'release'), 'IMPLEMENTOR="Debian"\nJAVA_RUNTIME_VERSION="17.0.15+6-Debian-1deb12u1"\nJAVA_VERSION="17.0.15"\n');
    expect(readJdkVersion(jdk17)).toEqual({ version: '17.0.15', feature: 17, vendor: 'Debian' });

    const jdk8 = join(tmp, 'jdk8');
    mkdirSync(join(jdk8, 'jre'), { recursive: true });
    writeFileSync(join(jdk8, 'release'), 'JAVA_VERSION="1.8.0_392"\nOS_NAME="Linux"\n');
    expect(readJdkVersion(join(jdk8, 'jre'))).toEqual({ version: '1.8.0_392', feature: 8 });

    expect(readJdkVersion(join(tmp, 'nowhere'))).toBeUndefined();
    const broken = join(tmp, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'release'), 'IMPLEMENTOR="X"\n');
    expect(readJdkVersion(broken)).toBeUndefined();
  });
});

describe('java.home from maps', () => {
  it('strips lib/[arch/]server/libjvm.so', () => {
    expect(javaHomeFromLibjvm('/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so')).toBe('/usr/lib/jvm/java-17-openjdk-amd64');
    expect(javaHomeFromLibjvm('/opt/jdk8/jre/lib/amd64/server/libjvm.so')).toBe('/opt/jdk8/jre');
    expect(javaHomeFromLibjvm('/opt/j9/lib/client/libjvm.so')).toBe('/opt/j9');
    expect(javaHomeFromLibjvm('/opt/My JDK/lib/server/libjvm.so')).toBe('/opt/My JDK');
    expect(javaHomeFromLibjvm('/usr/lib/libjvm.so')).toBeUndefined();
  });

  it('finds libjvm.so among the mappings, also after an upgrade deleted it', () => {
    const maps = [
      '55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1234   /usr/lib/jvm/java-17-openjdk-amd64/bin/java',
      '7f1a2c000000-7f1a2c021000 rw-p 00000000 00:00 0 ',
      '7f1a2d200000-7f1a2d4a0000 r--p 00000000 08:01 5678   /opt/My JDK/lib/server/libjvm.so (deleted)',
      '7ffd1c5e0000-7ffd1c601000 rw-p 00000000 00:00 0      [stack]',
    ].join('\n');
    expect(libjvmFromMaps(maps)).toBe('/opt/My JDK/lib/server/libjvm.so');
    expect(libjvmFromMaps('7f1a2c000000-7f1a2c021000 r-xp 00000000 08:01 9 /usr/lib/x86_64-linux-gnu/libc.so.6\n')).toBeUndefined();
  });

  it('is undefined for a process that is not a JVM or does not exist', () => {
    expect(javaHomeFromMaps(process.pid)).toBeUndefined(); // node
    expect(javaHomeFromMaps(0x3fffff)).toBeUndefined();
  });

  describe('on a running JVM', () => {
    let jvm: Jvm | undefined;
    afterAll(async () => { await jvm?.stop(); });

    it('agrees with the JVM\'s own java.home and java.version', async () => {
      jvm = await startJvm('Probe', [], { timeoutMs: 60000 });
      const home = javaHomeFromMaps(jvm.pid);
      expect(home).toBe(jvm.ready.java.home);
      const v = readJdkVersion(home!);
      expect(v?.version).toBe(jvm.ready.java.version);
      expect(v?.feature).toBe(jvm.ready.java.feature);
    }, 90000);
  });
});
