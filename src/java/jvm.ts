// Is this process a JVM, and which one: its java.home from the libjvm.so in
// its memory map, the version from that JDK's `release` file, the main class
// like jps -l, and the system properties on its command line that change
// socket behaviour. Reads texts the caller got from /proc (linux/proc.ts) and
// the release file; never attaches to the JVM.
import { dirname, join } from 'node:path';
import { decodeText, readRegularFile } from '../linux/files.js';
import type { JvmInfo, PropertyOrigin, PropertySetting } from '../model/types.js';

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

/** A -D option that changes socket behaviour (java.net.*, jdk.net.*, sun.net.*): its name and value. */
export function socketProperty(arg: string): { name: string; value: string } | undefined {
  const m = /^-D(java\.net\.[^=]+|jdk\.net\.[^=]+|sun\.net\.[^=]+)=(.*)$/s.exec(arg);
  return m ? { name: m[1]!, value: m[2]! } : undefined;
}

/** -D properties of the command line that change socket behaviour (java.net.*, jdk.net.*, sun.net.*). */
export function socketProperties(argv: string[]): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const a of argv) {
    const p = socketProperty(a);
    if (p) properties[p.name] = p.value;
  }
  return properties;
}

/**
 * JAVA_TOOL_OPTIONS and _JAVA_OPTIONS as HotSpot splits them
 * (Arguments::parse_options_buffer): white space separates, a single or
 * double quote groups up to its match and is dropped; no escapes.
 */
export function hotspotOptionTokens(text: string): string[] {
  const out: string[] = [];
  let cur = '', inToken = false, quote = '';
  for (const c of text) {
    if (quote) { if (c === quote) quote = ''; else cur += c; continue; }
    if (c === "'" || c === '"') { quote = c; inToken = true; continue; }
    if (/\s/.test(c)) { if (inToken) out.push(cur); cur = ''; inToken = false; continue; }
    cur += c; inToken = true;
  }
  if (inToken) out.push(cur);
  return out;
}

/**
 * An @argfile's arguments as the java launcher reads them (JDK 9+,
 * launcher/args.c): white space separates; # starts a comment to the end of
 * the line where an argument could start; single or double quotes group (the
 * other quote is literal inside), and inside them a backslash escapes
 * (\n \t \r \f, \\, and a line continued with \ at its end, the next line's
 * leading blanks dropped).
 */
export function argfileTokens(text: string): string[] {
  const out: string[] = [];
  let cur = '', inToken = false, quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) { quote = ''; continue; }
      if (c === '\\' && i + 1 < text.length) {
        const n = text[++i]!;
        if (n === '\n' || n === '\r') {
          if (n === '\r' && text[i + 1] === '\n') i++;
          while (i + 1 < text.length && (text[i + 1] === ' ' || text[i + 1] === '\t')) i++;
          continue;
        }
        cur += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n === 'f' ? '\f' : n;
        continue;
      }
      cur += c;
      continue;
    }
    if (c === '#' && !inToken) { while (i + 1 < text.length && text[i + 1] !== '\n' && text[i + 1] !== '\r') i++; continue; }
    if (c === "'" || c === '"') { quote = c; inToken = true; continue; }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') { if (inToken) out.push(cur); cur = ''; inToken = false; continue; }
    cur += c; inToken = true;
  }
  if (inToken) out.push(cur);
  return out;
}

/** What the java launcher and the JVM read, as the caller got it from /proc and the target's files. */
export interface LaunchFacts {
  argv: string[];
  /** The environment the process started with; undefined when it could not be read. */
  env?: Record<string, string>;
  /** An @argfile's text by its path as the command line names it; undefined when it could not be read. */
  argfile?: (path: string) => string | undefined;
  /** java.rt.vmArgs from the JVM's hsperfdata file, when read. */
  vmArgs?: string;
  /** The JDK's feature release: JDK_JAVA_OPTIONS is read by the launcher of JDK 9 and later. */
  feature?: number;
}

/** The launcher's arguments with @argfiles expanded in place, each with where it came from, up to the main class. */
function launcherArgs(f: LaunchFacts, jdkJavaOptions: string[]): { arg: string; from: PropertySetting['from']; file?: string }[] {
  const out: { arg: string; from: PropertySetting['from']; file?: string }[] = [];
  let expand = (f.feature ?? 9) >= 9;
  const one = (a: string, from: PropertySetting['from'], file?: string): void => {
    if (expand && a.startsWith('@') && !a.startsWith('@@') && a.length > 1) {
      const text = f.argfile?.(a.slice(1));
      if (text !== undefined) for (const t of argfileTokens(text)) out.push({ arg: t, from: 'argfile', file: a.slice(1) });
      return;
    }
    if (a === '--disable-@files') expand = false;
    out.push({ arg: a.startsWith('@@') ? a.slice(1) : a, from, file });
  };
  for (const a of jdkJavaOptions) one(a, 'JDK_JAVA_OPTIONS');
  for (const a of f.argv.slice(1)) one(a, 'argv');
  // Options end at the main class (or -jar, -m): what follows is the application's.
  const main = mainClassIndex(out.map((x) => x.arg));
  return main === undefined ? out : out.slice(0, main);
}

/** Index of the main class (or of -jar / -m) in a launcher argument list; undefined when there is none. */
function mainClassIndex(args: string[]): number | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-jar' || a === '-m' || a === '--module') return i;
    if (OPTIONS_WITH_ARGUMENT.has(a)) { i++; continue; }
    if (a.startsWith('-')) continue;
    return i;
  }
  return undefined;
}

/**
 * Every socket -D setting the JVM read, in the order it read them: JAVA_TOOL_OPTIONS,
 * then the launcher's arguments (JDK_JAVA_OPTIONS first, then the command line,
 * @argfiles expanded where they stand), then _JAVA_OPTIONS; a later setting of a
 * name wins (HotSpot Arguments::parse, verified with conflicting settings on JDK 17
 * and 25: java.rt.vmArgs lists them in this order and System.getProperty returns
 * the last). Where the JVM's own record is there (vmArgs), its sequence decides,
 * and a setting found nowhere else is attributed to it.
 */
export function propertySettings(f: LaunchFacts): PropertySetting[] {
  const env = f.env ?? {};
  const launcherIsJava = /(^|\/)java$/.test(f.argv[0] ?? '');
  const jdkJava = launcherIsJava && (f.feature ?? 9) >= 9 && env.JDK_JAVA_OPTIONS !== undefined ? hotspotOptionTokens(env.JDK_JAVA_OPTIONS) : [];
  const seen: { arg: string; from: PropertySetting['from']; file?: string }[] = [
    ...hotspotOptionTokens(env.JAVA_TOOL_OPTIONS ?? '').map((arg) => ({ arg, from: 'JAVA_TOOL_OPTIONS' as const })),
    ...launcherArgs(f, jdkJava),
    ...hotspotOptionTokens(env._JAVA_OPTIONS ?? '').map((arg) => ({ arg, from: '_JAVA_OPTIONS' as const })),
  ];
  const ours: PropertySetting[] = [];
  for (const s of seen) {
    const p = socketProperty(s.arg);
    if (p) ours.push({ name: p.name, value: p.value, from: s.from, ...(s.file !== undefined ? { file: s.file } : {}) });
  }
  if (f.vmArgs === undefined) return ours;
  // The JVM's record: its -D settings in its order, each attributed to the first unused setting of ours that matches.
  const out: PropertySetting[] = [];
  let next = 0;
  for (const arg of f.vmArgs.split(' ')) {
    const p = socketProperty(arg);
    if (!p) continue;
    let k = next;
    while (k < ours.length && !(ours[k]!.name === p.name && ours[k]!.value === p.value)) k++;
    if (k < ours.length) { out.push(ours[k]!); next = k + 1; } else out.push({ name: p.name, value: p.value, from: 'hsperfdata' });
  }
  return out;
}

/** The value each property has in the JVM (its last setting), and where that came from. */
export function effectiveProperties(settings: PropertySetting[]): { properties: Record<string, string>; origins: Record<string, PropertyOrigin> } {
  const properties: Record<string, string> = {};
  const origins: Record<string, PropertyOrigin> = {};
  for (const s of settings) { properties[s.name] = s.value; origins[s.name] = s.from; }
  return { properties, origins };
}

/** What the report says about the JVM of a process, from its maps and launch facts; undefined: not a JVM. */
export function jvmInfo(maps: string, argv: string[], launchOf: () => Omit<LaunchFacts, 'argv' | 'feature'> & { vmArgsReason?: string } = () => ({})): JvmInfo | undefined {
  const javaHome = javaHomeFromMaps(maps);
  if (javaHome === undefined) return undefined;
  const v = readJdkVersion(javaHome);
  const launch = launchOf();
  const settings = propertySettings({ ...launch, argv, feature: v?.feature });
  const { properties, origins } = effectiveProperties(settings);
  return {
    javaHome, version: v?.version, feature: v?.feature, vendor: v?.vendor,
    properties, propertyOrigins: origins, propertySettings: settings,
    vmArgs: launch.vmArgs !== undefined ? { read: true } : { read: false, reason: launch.vmArgsReason ?? 'not looked for' },
    mainClass: mainClassOf(argv),
  };
}

/** Default asynchronous channel group threads among a JVM's thread names (comm), by the JDK's naming (mappings/jdk-facts.json newThreads). */
export function asyncGroupThreads(comms: string[], patterns: string[]): number {
  const res = patterns.map((p) => new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/N/g, '\\d+')}$`));
  let n = 0;
  for (const c of comms) if (res.some((r) => r.test(c))) n++;
  return n;
}
