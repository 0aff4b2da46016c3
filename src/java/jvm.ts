// Is this process a JVM, and which one: its java.home from the libjvm.so in
// its memory map, the version from that JDK's `release` file, the main class
// like jps -l, and the system properties on its command line that change
// socket behaviour. Reads texts the caller got from /proc (linux/proc.ts) and
// the release file; never attaches to the JVM.
import { dirname, join } from 'node:path';
import { decodeText, readRegularFile } from '../linux/files.js';
import type { JvmInfo } from '../model/types.js';

export interface JdkVersion {
  /** JAVA_VERSION as written: "17.0.15", "21", "1.8.0_392". */
  version: string;
  /** Feature release: 17 for "17.0.15", 8 for "1.8.0_392". */
  feature: number;
  /** IMPLEMENTOR ("Debian", "Eclipse Adoptium" ...), when the file names one. */
  vendor?: string;
}

/** KEY="value" lines of a release file. */
export function parseRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    // s: a value may hold a CR or U+2028 (a hostile file's), which '.' alone would not match, losing the key.
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/s.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

/** 17 for "17.0.15" / "17" / "17-ea", 8 for "1.8.0_392". */
export function featureOf(version: string): number | undefined {
  const m = /^(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!m) return undefined;
  const first = Number(m[1]);
  if (first === 1 && m[2] !== undefined) return Number(m[2]); // JDK 8 and older: 1.N
  return first;
}

/**
 * Version of the JDK at javaHome from its `release` file. On JDK 8 java.home
 * is <jdk>/jre, whose parent holds the file, so the parent is tried too.
 */
export function readJdkVersion(javaHome: string): JdkVersion | undefined {
  const candidates = [join(javaHome, 'release')];
  if (/\/jre\/?$/.test(javaHome)) candidates.push(join(dirname(javaHome.replace(/\/$/, '')), 'release'));
  for (const file of candidates) {
    let text: string;
    try {
      // A path the target's owner chose: a regular file only, bounded (a FIFO would hang, /dev/zero never end), not through a link.
      text = decodeText(readRegularFile(file, { maxBytes: 64 << 10, what: 'release file', noFollow: true }));
    } catch {
      continue;
    }
    const rel = parseRelease(text);
    const version = rel.JAVA_VERSION;
    const feature = version === undefined ? undefined : featureOf(version);
    if (version === undefined || feature === undefined) continue;
    return { version, feature, ...(rel.IMPLEMENTOR ? { vendor: rel.IMPLEMENTOR } : {}) };
  }
  return undefined;
}

/**
 * java.home from the path of a mapped libjvm.so:
 *   <home>/lib/server/libjvm.so          (JDK 9+ and jlink images; also client/, minimal/, zero/, core/)
 *   <home>/lib/amd64/server/libjvm.so    (JDK 8, where <home> is <jdk>/jre)
 */
export function javaHomeFromLibjvm(path: string): string | undefined {
  const m = /^(.*)\/lib(?:\/[^/]+)?\/(?:server|client|minimal|zero|core)\/libjvm\.so$/.exec(path);
  return m && m[1] ? m[1] : undefined;
}

/** The libjvm.so path in a /proc/<pid>/maps text (" (deleted)" stripped: the JDK was upgraded under the process). */
export function libjvmFromMaps(maps: string): string | undefined {
  for (const line of maps.split('\n')) {
    // address perms offset dev inode pathname — the path may contain spaces.
    const m = /^\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\/.*\/libjvm\.so)(?: \(deleted\))?$/.exec(line.trimEnd());
    if (m) return m[1];
  }
  return undefined;
}

/**
 * java.home of a running JVM from its /proc/<pid>/maps text; undefined when it
 * maps no HotSpot-style libjvm.so (not a JVM). The path is as the target sees
 * it: for a process in another mount namespace, read it through /proc/<pid>/root.
 */
export function javaHomeFromMaps(maps: string): string | undefined {
  const lib = libjvmFromMaps(maps);
  return lib === undefined ? undefined : javaHomeFromLibjvm(lib);
}

const OPTIONS_WITH_ARGUMENT = new Set(['-cp', '-classpath', '--class-path', '-p', '--module-path', '--add-opens', '--add-exports', '--add-modules']);

/** Main class or jar from a java command line, like jps -l. */
export function mainClassOf(argv: string[]): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-jar') return argv[i + 1];
    if (OPTIONS_WITH_ARGUMENT.has(a)) { i++; continue; }
    if (a === '-m' || a === '--module') return argv[i + 1];
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}

/** -D properties of the command line that change socket behaviour (java.net.*, jdk.net.*, sun.net.*). */
export function socketProperties(argv: string[]): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const a of argv) {
    const m = /^-D(java\.net\.[^=]+|jdk\.net\.[^=]+|sun\.net\.[^=]+)=(.*)$/.exec(a);
    if (m) properties[m[1]!] = m[2]!;
  }
  return properties;
}

/** What the report says about the JVM of a process, from its maps and command line; undefined: not a JVM. */
export function jvmInfo(maps: string, argv: string[]): JvmInfo | undefined {
  const javaHome = javaHomeFromMaps(maps);
  if (javaHome === undefined) return undefined;
  const v = readJdkVersion(javaHome);
  return {
    javaHome, version: v?.version, feature: v?.feature, vendor: v?.vendor,
    properties: socketProperties(argv), mainClass: mainClassOf(argv),
  };
}
