// HotSpot's performance data file (/tmp/hsperfdata_<user>/<pid>, what jps and
// jstat read): a 32-byte prologue (magic 0xcafec0c0, byte order, version,
// entry offset and count) and entries (length, name offset, vector length,
// type, flags, units, variability, data offset) (hotspot/share/runtime/
// perfMemory.hpp PerfDataPrologue, perfData.hpp PerfDataEntry). Only string
// entries are decoded. The one parser of the format: the report reads
// java.rt.vmArgs (every option the JVM parsed, JAVA_TOOL_OPTIONS,
// JDK_JAVA_OPTIONS, @argfiles and _JAVA_OPTIONS included, in the order it
// parsed them), --observe reads sun.rt.jvmCapabilities (observe/hsperf.ts).
// The file is the target's: every offset is checked against the buffer, and a
// malformed file gives nothing.
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

/** java.rt.vmArgs of an hsperfdata file: the JVM's options as one space-joined text; undefined when absent. */
export function vmArgsOf(b: Buffer): string | undefined {
  return parsePerfData(b)?.strings.get('java.rt.vmArgs');
}
