// The one JVM detector (src/java/jvm.ts) on synthetic JDK layouts: JDK 8
// (jre/lib/amd64/server, java.home <jdk>/jre with the release file in the
// parent), JDK 11/17/21/25 (lib/server), client/minimal/zero VMs, jlink
// images, paths with spaces, a libjvm.so deleted by an upgrade. The maps lines
// are written as the kernel prints them; the release files as the JDKs ship them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  featureOf, javaHomeFromLibjvm, javaHomeFromMaps, jvmInfo, libjvmFromMaps, mainClassOf, parseRelease, readJdkVersion, socketProperties,
} from '../../src/java/jvm.js';
import { inspectProcess } from '../../src/discover/process.js';

const tmp = mkdtempSync(join(tmpdir(), 'knj-jvm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** One maps line, as /proc/<pid>/maps prints it (pathname after padding). */
const line = (path: string, perms = 'r-xp') => `7f1a2d200000-7f1a2d4a0000 ${perms} 00000000 08:01 5678                       ${path}`;
const maps = (...paths: string[]) => [
  '55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1234                       /usr/bin/java',
  '7f1a2c000000-7f1a2c021000 rw-p 00000000 00:00 0 ',
  ...paths.map((p) => line(p)),
  '7ffd1c5e0000-7ffd1c601000 rw-p 00000000 00:00 0                          [stack]',
].join('\n') + '\n';

interface Layout {
  name: string;
  /** java.home, and where libjvm.so sits below it. */
  home: string;
  lib: string;
  /** Where the release file is (JDK 8: the parent of java.home). */
  releaseDir: string;
  release: string;
  version: string;
  feature: number;
  vendor?: string;
}

const LAYOUTS: Layout[] = [
  {
    name: 'JDK 8 (Temurin)', home: 'Temurin 8/jdk8u392-b08/jre', lib: 'lib/amd64/server/libjvm.so', releaseDir: 'Temurin 8/jdk8u392-b08',
    release: 'JAVA_VERSION="1.8.0_392"\nOS_NAME="Linux"\nOS_ARCH="amd64"\nIMPLEMENTOR="Eclipse Adoptium"\n',
    version: '1.8.0_392', feature: 8, vendor: 'Eclipse Adoptium',
  },
  {
    name: 'JDK 8 (aarch64, client VM)', home: 'jdk8-arm/jre', lib: 'lib/aarch64/client/libjvm.so', releaseDir: 'jdk8-arm',
    release: 'JAVA_VERSION="1.8.0_402"\n', version: '1.8.0_402', feature: 8,
  },
  {
    name: 'JRE 8 alone', home: 'jre1.8.0_401', lib: 'lib/amd64/server/libjvm.so', releaseDir: 'jre1.8.0_401',
    release: 'JAVA_VERSION="1.8.0_401"\n', version: '1.8.0_401', feature: 8,
  },
  {
    name: 'JDK 11', home: 'java-11-openjdk-amd64', lib: 'lib/server/libjvm.so', releaseDir: 'java-11-openjdk-amd64',
    release: 'IMPLEMENTOR="Debian"\nJAVA_VERSION="11.0.22"\n', version: '11.0.22', feature: 11, vendor: 'Debian',
  },
  {
    name: 'JDK 17', home: 'java-17-openjdk-amd64', lib: 'lib/server/libjvm.so', releaseDir: 'java-17-openjdk-amd64',
    release: 'IMPLEMENTOR="Debian"\nJAVA_RUNTIME_VERSION="17.0.15+6-Debian-1deb12u1"\nJAVA_VERSION="17.0.15"\n', version: '17.0.15', feature: 17, vendor: 'Debian',
  },
  {
    name: 'JDK 21 in a path with spaces, minimal VM', home: 'My JDKs/jdk 21', lib: 'lib/minimal/libjvm.so', releaseDir: 'My JDKs/jdk 21',
    release: 'JAVA_VERSION="21.0.2"\nIMPLEMENTOR="Oracle Corporation"\n', version: '21.0.2', feature: 21, vendor: 'Oracle Corporation',
  },
  {
    name: 'JDK 25 (Temurin)', home: 'temurin-25-jdk-amd64', lib: 'lib/server/libjvm.so', releaseDir: 'temurin-25-jdk-amd64',
    release: 'IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="25"\nJAVA_RUNTIME_VERSION="25+36-LTS"\n', version: '25', feature: 25, vendor: 'Eclipse Adoptium',
  },
  {
    name: 'jlink image of JDK 21, zero VM', home: 'app/runtime', lib: 'lib/zero/libjvm.so', releaseDir: 'app/runtime',
    release: 'JAVA_VERSION="21.0.3"\nMODULES="java.base java.logging"\n', version: '21.0.3', feature: 21,
  },
];

describe('JVM detection on JDK layouts', () => {
  it.each(LAYOUTS.map((l) => [l.name, l] as const))('%s', (_name, l) => {
    const home = join(tmp, l.home);
    mkdirSync(join(home, l.lib, '..'), { recursive: true });
    mkdirSync(join(tmp, l.releaseDir), { recursive: true });
    writeFileSync(join(tmp, l.releaseDir, 'release'), l.release);
    const lib = join(home, l.lib);
    expect(javaHomeFromLibjvm(lib)).toBe(home);
    expect(libjvmFromMaps(maps(lib))).toBe(lib);
    expect(javaHomeFromMaps(maps(lib))).toBe(home);
    expect(javaHomeFromMaps(maps(`${lib} (deleted)`)), 'after an upgrade removed it').toBe(home);
    const info = jvmInfo(maps(lib), ['java', '-Djava.net.preferIPv4Stack=true', '-Dother=x', '-cp', 'a b.jar', 'com.example.Main', 'arg']);
    expect(info).toEqual({
      javaHome: home, version: l.version, feature: l.feature, vendor: l.vendor,
      properties: { 'java.net.preferIPv4Stack': 'true' }, mainClass: 'com.example.Main',
      propertyOrigins: { 'java.net.preferIPv4Stack': 'argv' },
      propertySettings: [{ name: 'java.net.preferIPv4Stack', value: 'true', from: 'argv' }],
      vmArgs: { read: false, reason: 'not looked for' },
    });
  });

  it('is not fooled by what is not a HotSpot libjvm.so', () => {
    expect(javaHomeFromLibjvm('/usr/lib/libjvm.so')).toBeUndefined();
    expect(javaHomeFromLibjvm('/opt/x/lib/server/libjvm.so.bak')).toBeUndefined();
    expect(javaHomeFromMaps(maps('/usr/lib/x86_64-linux-gnu/libc.so.6'))).toBeUndefined();
    expect(jvmInfo('', ['node'])).toBeUndefined();
  });

  it('knows a JVM without a readable release file, version unknown', () => {
    const lib = join(tmp, 'bare', 'lib', 'server', 'libjvm.so');
    expect(jvmInfo(maps(lib), ['java', 'Main'])).toEqual({
      javaHome: join(tmp, 'bare'), version: undefined, feature: undefined, vendor: undefined, properties: {}, mainClass: 'Main',
      propertyOrigins: {}, propertySettings: [], vmArgs: { read: false, reason: 'not looked for' },
    });
  });

  it('says this node process is not a JVM', () => {
    const p = inspectProcess(process.pid);
    expect(p.isJvm).toBe(false);
    expect(p.jvm).toBeUndefined();
    expect(p.netns?.own).toBe(true);
  });
});

describe('release file', () => {
  it('parses KEY="value" lines', () => {
    expect(parseRelease('IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="21.0.2"\nOS_ARCH=x86_64\n\n# comment\n')).toEqual({
      IMPLEMENTOR: 'Eclipse Adoptium', JAVA_VERSION: '21.0.2', OS_ARCH: 'x86_64',
    });
  });

  it('keeps a value holding a CR or a line separator (a hostile file\'s: shown escaped later, never lost), and drops a CRLF ending', () => {
    expect(parseRelease('JAVA_VERSION="17\x1b[2J\rX\u2028Y"\r\nIMPLEMENTOR=Z\r\n')).toEqual({ JAVA_VERSION: '17\x1b[2J\rX\u2028Y', IMPLEMENTOR: 'Z' });
  });

  it('takes the feature release from every version style', () => {
    expect(featureOf('17.0.15')).toBe(17);
    expect(featureOf('21')).toBe(21);
    expect(featureOf('22-ea')).toBe(22);
    expect(featureOf('1.8.0_392')).toBe(8);
    expect(featureOf('garbage')).toBeUndefined();
  });

  it('is undefined without a JAVA_VERSION', () => {
    expect(readJdkVersion(join(tmp, 'nowhere'))).toBeUndefined();
    const broken = join(tmp, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'release'), 'IMPLEMENTOR="X"\n');
    expect(readJdkVersion(broken)).toBeUndefined();
  });
});

describe('command line', () => {
  it('main class like jps -l', () => {
    expect(mainClassOf(['java', '-Xmx1g', '-cp', 'a:b', 'com.example.Main', 'x'])).toBe('com.example.Main');
    expect(mainClassOf(['java', '-jar', 'app.jar'])).toBe('app.jar');
    expect(mainClassOf(['java', '-m', 'mod/com.x.Main'])).toBe('mod/com.x.Main');
    expect(mainClassOf(['java', '--add-opens', 'java.base/java.lang=ALL-UNNAMED', 'Main'])).toBe('Main');
    expect(mainClassOf(['java', '-version'])).toBeUndefined();
  });
  it('keeps only the properties that change socket behaviour', () => {
    expect(socketProperties(['java', '-Djdk.net.hosts.file=/h', '-Dsun.net.client.defaultReadTimeout=5', '-Dfoo=bar', '-Djava.net.preferIPv6Addresses=true']))
      .toEqual({ 'jdk.net.hosts.file': '/h', 'sun.net.client.defaultReadTimeout': '5', 'java.net.preferIPv6Addresses': 'true' });
  });
});
