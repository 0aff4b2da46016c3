// HotSpot's attach protocol, version 1, and the text its commands answer.
// Request: "1\0<op>\0<arg0>\0<arg1>\0<arg2>\0" (UTF-8; always three
// arguments, each at most 1024 bytes, the op at most 16: HotSpot closes the
// connection otherwise). Reply: "<result code>\n<output>". JDK 17 writes the
// whole reply when the operation is done. JDK 24+ stream a jcmd's output
// (JDK-8319055): the code 0 is written before the diagnostic command runs,
// so a failing command still says 0 and only its text tells; JDK 25 also
// knows protocol version 2 ("getversion" answers "2 streaming"), which we do
// not need: version 1 is accepted by every HotSpot with attach.
import { ObserveError, UsageError } from '../errors.js';

export const ATTACH_ARG_MAX = 1024;
const ATTACH_OP_MAX = 16;
/** HotSpot's code for a version it does not speak (ATTACH_ERROR_BADVERSION). */
export const ATTACH_ERROR_BADVERSION = 101;

export function encodeRequest(op: string, args: string[] = []): Buffer {
  if (args.length > 3) throw new UsageError('an attach request takes at most 3 arguments');
  const parts = [op, ...args, '', '', ''].slice(0, 4);
  for (const [i, p] of parts.entries()) {
    const n = Buffer.byteLength(p, 'utf8');
    if (p.includes('\0') || n > (i === 0 ? ATTACH_OP_MAX : ATTACH_ARG_MAX)) {
      throw new UsageError(`attach request '${op}': ${i === 0 ? 'operation' : 'argument'} too long or with a NUL`);
    }
  }
  return Buffer.from(`1\0${parts.join('\0')}\0`, 'utf8');
}

export interface Reply {
  code: number;
  text: string;
}

export function parseReply(buf: Buffer): Reply {
  const nl = buf.indexOf(10);
  const head = (nl < 0 ? buf : buf.subarray(0, nl)).toString('latin1').trim();
  if (!/^-?[0-9]{1,6}$/.test(head)) throw new ObserveError('the JVM sent no result code (premature end of its answer)', { kind: 'jfr' });
  return { code: Number(head), text: nl < 0 ? '' : buf.subarray(nl + 1).toString('utf8') };
}

/** "JDK 17.0.21.1" from VM.version; the feature release, 8 for "1.8.0_392". */
export function parseVmVersion(text: string): { version?: string; feature?: number; vm?: string } {
  const jdk = /^JDK ([0-9][0-9A-Za-z._+-]*)\s*$/m.exec(text)?.[1];
  const vm = /^(.*) version (\S+)\s*$/m.exec(text);
  const v = jdk ?? vm?.[2];
  let feature: number | undefined;
  if (v) {
    const m = /^1\.([0-9]+)\./.exec(v) ?? /^([0-9]+)/.exec(v);
    feature = m ? Number(m[1]) : undefined;
  }
  return { ...(v ? { version: v } : {}), ...(feature !== undefined ? { feature } : {}), ...(vm ? { vm: vm[1]!.trim() } : {}) };
}

/** java.util.Properties text (the "properties" attach operation): key=value lines with backslash escapes. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^[ \t\f]+/, '');
    if (!line || line[0] === '#' || line[0] === '!') continue;
    // A line ending in an odd number of backslashes continues on the next.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '');
    let k = '', j = 0;
    for (; j < line.length; j++) {
      const c = line[j]!;
      if (c === '\\') { k += unescape(line[++j] ?? '', line, j); if (line[j] === 'u') j += 4; continue; }
      if (c === '=' || c === ':' || c === ' ' || c === '\t') break;
      k += c;
    }
    while (j < line.length && (line[j] === ' ' || line[j] === '\t')) j++;
    if (line[j] === '=' || line[j] === ':') j++;
    while (j < line.length && (line[j] === ' ' || line[j] === '\t')) j++;
    let v = '';
    for (; j < line.length; j++) {
      const c = line[j]!;
      if (c === '\\') { v += unescape(line[++j] ?? '', line, j); if (line[j] === 'u') j += 4; continue; }
      v += c;
    }
    out.set(k, v);
  }
  return out;
}

function unescape(c: string, line: string, at: number): string {
  switch (c) {
    case 't': return '\t';
    case 'n': return '\n';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'u': {
      const hex = line.slice(at + 1, at + 5);
      return /^[0-9a-fA-F]{4}$/.test(hex) ? String.fromCharCode(parseInt(hex, 16)) : '';
    }
    default: return c;
  }
}

/** "Started recording 3." (JFR.start) -> 3. */
export function startedRecording(text: string): number | undefined {
  const m = /^Started recording ([0-9]+)\./m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * The JVM has no Flight Recorder: JFR.start is unknown (JDK 8 before 8u262),
 * or the runtime lacks the jdk.jfr module (JDK 17 answers "Module jdk.jfr not
 * found. Flight Recorder can not be enabled.").
 */
export function noFlightRecorder(reply: Reply): boolean {
  return /Unknown diagnostic command|Diagnostic command .* not (found|available)|Operation .* not recognized|Module jdk\.jfr not found|Flight Recorder can not be enabled/i.test(reply.text);
}

/**
 * JFR.check name=<id> verbose=true: the settings of each event the recording
 * enables ("Socket Read (jdk.SocketRead)" then "[threshold=0 ms,stackTrace=true,enabled=true]").
 */
export function checkedEvents(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const ev = /\(([A-Za-z0-9_.$]+)\)\s*$/.exec(lines[i]!);
    if (!ev || !lines[i]!.startsWith(' ')) continue;
    const set = /^\s*\[(.*)\]\s*$/.exec(lines[i + 1] ?? '');
    const settings = new Map<string, string>();
    for (const kv of (set?.[1] ?? '').split(',')) {
      const eq = kv.indexOf('=');
      if (eq > 0) settings.set(kv.slice(0, eq).trim(), kv.slice(eq + 1).trim());
    }
    out.set(ev[1]!, settings);
  }
  return out;
}

/** The first line of a command's answer, for an error message (the caller neutralises it for a terminal). */
export function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim()) ?? '').trim().slice(0, 300);
}
