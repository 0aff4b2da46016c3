// HotSpot's performance data file (/tmp/hsperfdata_<user>/<pid>, what jps and
// jstat read): a 32-byte prologue (magic 0xcafec0c0, byte order, version,
// entry offset and count) and entries (length, name offset, vector length,
// type, flags, units, variability, data offset). We read one string from it:
// sun.rt.jvmCapabilities, whose first character is '1' when the JVM supports
// attach, '0' with -XX:+DisableAttachMechanism (runtimeService.cpp) — the
// same test jvmstat's MonitoredVmUtil.isAttachable makes, whatever put the
// flag there (command line, @argfiles, JAVA_TOOL_OPTIONS, -XX:Flags).
const MAGIC = 0xcafec0c0;
const PROLOGUE = 32;

export interface PerfData {
  strings: Map<string, string>;
}

/** undefined when buf is not a perf data file (or is damaged): the caller then knows nothing from it. */
export function parsePerfData(buf: Buffer): PerfData | undefined {
  if (buf.length < PROLOGUE || buf.readUInt32BE(0) !== MAGIC) return undefined;
  const le = buf[4] === 1;
  const i32 = (o: number) => (o + 4 <= buf.length ? (le ? buf.readInt32LE(o) : buf.readInt32BE(o)) : -1);
  const entryOffset = i32(24), count = i32(28);
  if (entryOffset < PROLOGUE || count < 0 || count > 100_000) return undefined;
  const strings = new Map<string, string>();
  let at = entryOffset;
  for (let i = 0; i < count; i++) {
    const len = i32(at), nameOff = i32(at + 4), vlen = i32(at + 8), dataOff = i32(at + 16);
    if (len < 20 || at + len > buf.length) return undefined;
    const type = String.fromCharCode(buf[at + 12]!);
    const nameEnd = buf.indexOf(0, at + nameOff);
    if (nameOff < 20 || nameEnd < 0 || nameEnd > at + len) return undefined;
    const name = buf.toString('latin1', at + nameOff, nameEnd);
    if (type === 'B' && vlen > 0 && dataOff > 0 && at + dataOff + vlen <= at + len) {
      const start = at + dataOff;
      let end = buf.indexOf(0, start);
      if (end < 0 || end > start + vlen) end = start + vlen;
      strings.set(name, buf.toString('latin1', start, end));
    }
    at += len;
  }
  return { strings };
}

/** true / false when the file says whether attach is supported; undefined when it does not say. */
export function attachSupported(p: PerfData | undefined): boolean | undefined {
  const caps = p?.strings.get('sun.rt.jvmCapabilities');
  if (!caps) return undefined;
  return caps[0] === '1';
}

/**
 * -XX:+DisableAttachMechanism in a JVM's command line or in the environment
 * variables the JVM reads options from: the last occurrence wins, as HotSpot
 * parses them (JAVA_TOOL_OPTIONS, then the command line, then _JAVA_OPTIONS).
 * undefined when none mentions it. (@argfiles and -XX:Flags files are not
 * read here: the perf data file tells for those.)
 */
export function attachDisabledByFlags(argv: string[], env: Record<string, string>): boolean | undefined {
  let last: boolean | undefined;
  const scan = (words: string[]) => {
    for (const w of words) {
      if (w === '-XX:+DisableAttachMechanism') last = true;
      else if (w === '-XX:-DisableAttachMechanism') last = false;
    }
  };
  const split = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean);
  scan(split(env.JAVA_TOOL_OPTIONS));
  scan(split(env.JDK_JAVA_OPTIONS));
  scan(jvmOptions(argv));
  scan(split(env._JAVA_OPTIONS));
  return last;
}

/** The JVM options of a java command line: the words before the main class, -jar or -m. */
function jvmOptions(argv: string[]): string[] {
  const withValue = new Set(['-cp', '-classpath', '--class-path', '-p', '--module-path', '--upgrade-module-path', '--add-modules', '--add-opens', '--add-exports', '--add-reads', '--patch-module', '--limit-modules']);
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-jar' || a === '-m' || a === '--module' || !a.startsWith('-')) break;
    out.push(a);
    if (withValue.has(a)) i++;
  }
  return out;
}
