// HotSpot's performance data file (/tmp/hsperfdata_<user>/<pid>, what jps and
// jstat read; parsed by java/hsperf.ts, the one parser). We read one string from it:
// sun.rt.jvmCapabilities, whose first character is '1' when the JVM supports
// attach, '0' with -XX:+DisableAttachMechanism (runtimeService.cpp) — the
// same test jvmstat's MonitoredVmUtil.isAttachable makes, whatever put the
// flag there (command line, @argfiles, JAVA_TOOL_OPTIONS, -XX:Flags).
import { parsePerfData, type PerfData } from '../java/hsperf.js';

export { parsePerfData, type PerfData };

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
