// The JVM's own record of how it was started: the hsperfdata file HotSpot
// keeps in /tmp/hsperfdata_<user>/<pid> (what jps and jstat read), in the
// JDK's perf-data format (hotspot/share/runtime/perfMemory.hpp
// PerfDataPrologue, perfData.hpp PerfDataEntry). Only string entries are
// decoded, and only the ones asked for (java.rt.vmArgs: every option the JVM
// parsed, JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS, @argfiles and _JAVA_OPTIONS
// included, in the order it parsed them). The file is the target's: every
// offset is checked against the buffer, and a malformed file gives nothing.

/** 0xcafec0c0 as the file's first four bytes (written in either byte order's own way: the bytes are fixed). */
const MAGIC = [0xca, 0xfe, 0xc0, 0xc0];
const PROLOGUE_SIZE = 32;
const ENTRY_SIZE = 20;
/** More entries than any JVM makes (JDK 17 and 25: ~190): a larger count is not a perf-data file. */
const MAX_ENTRIES = 100_000;
/** T_BYTE: the data type of string (byte vector) entries. */
const TYPE_BYTE = 'B'.charCodeAt(0);

/**
 * The string entries of a perf-data file whose names are in wanted, by name;
 * undefined when the bytes are not a perf-data file.
 */
export function perfStrings(b: Buffer, wanted: ReadonlySet<string>): Map<string, string> | undefined {
  if (b.length < PROLOGUE_SIZE || MAGIC.some((m, i) => b[i] !== m)) return undefined;
  const little = b[4] === 1;
  const i32 = (o: number) => (little ? b.readInt32LE(o) : b.readInt32BE(o));
  const used = Math.min(i32(8), b.length);
  const first = i32(24), count = i32(28);
  if (first < PROLOGUE_SIZE || first > used || count < 0 || count > MAX_ENTRIES) return undefined;
  const out = new Map<string, string>();
  let o = first;
  for (let n = 0; n < count && o + ENTRY_SIZE <= used; n++) {
    const len = i32(o), nameOff = i32(o + 4), vlen = i32(o + 8), type = b[o + 12]!, dataOff = i32(o + 16);
    if (len < ENTRY_SIZE || o + len > used) return out.size ? out : undefined;
    if (type === TYPE_BYTE && vlen > 0 && nameOff >= ENTRY_SIZE && nameOff < len && dataOff >= ENTRY_SIZE && dataOff + vlen <= len) {
      const name = cString(b, o + nameOff, o + len);
      if (wanted.has(name)) out.set(name, cString(b, o + dataOff, o + dataOff + vlen));
    }
    o += len;
  }
  return out;
}

/** The NUL-terminated text at [from, to) (UTF-8; the JVM writes its arguments as the platform encoding gave them). */
function cString(b: Buffer, from: number, to: number): string {
  const end = b.indexOf(0, from);
  return b.toString('utf8', from, end < 0 || end > to ? to : end);
}

/** java.rt.vmArgs of an hsperfdata file: the JVM's options as one space-joined text; undefined when absent. */
export function vmArgsOf(b: Buffer): string | undefined {
  return perfStrings(b, VM_ARGS)?.get('java.rt.vmArgs');
}
const VM_ARGS = new Set(['java.rt.vmArgs']);
