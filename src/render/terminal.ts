// Text the inspected process controls (its command line, comm, java.home, its
// JDK's release file; a snapshot's or a policy's strings) must not drive the
// terminal that shows a report: an ESC or C1 sequence can retitle, recolour,
// hide lines or (on some terminals) answer back, and a newline or CR can forge
// report lines or split a one-line error. Every human-readable output passes
// through here: the renderers for people (text, knetstat tables, list, owner,
// check text) make their input terminalSafe themselves, the CLI's every line
// on stderr goes through terminalText, and writeOutput gives each chunk a
// last line of defence (safeChunk). JSON and JUnit have their own escaping.
//
// Controls are shown, not dropped, so an operator sees that the name holds
// one: ESC as \e, newline \n, CR \r, tab \t, other C0 and DEL as \xHH, C1 and
// the Unicode controls that reorder or break lines (bidi overrides and
// isolates, LINE/PARAGRAPH SEPARATOR) as \uHHHH.

/** What a document is, for its last line of defence (writeOutput): text, JSON or XML. */
export type OutputKind = 'text' | 'json' | 'xml';

/** The kind of document a format (of a report, check, list or owner) is. */
export function outputKind(format: string): OutputKind {
  return format === 'json' ? 'json' : format === 'junit' ? 'xml' : 'text';
}

// C0, DEL, C1; LRM/RLM, ALM; LS, PS; LRE..RLO; LRI..PDI.
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');
/** The same, but newline allowed: for whole chunks of our own multi-line output. */
const UNSAFE_BUT_NL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_BUT_NL_ALL = new RegExp(UNSAFE_BUT_NL.source, 'g');

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1b': '\\e' };

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One field of target-controlled text, safe on one terminal line. */
export function terminalText(s: string): string {
  return UNSAFE.test(s) ? s.replace(UNSAFE_ALL, escapeChar) : s;
}

/**
 * A chunk of human-readable output: the last line of defence for a field a
 * renderer printed without terminalText. Our own newlines stay; every other
 * control is shown escaped.
 */
export function terminalChunk(s: string): string {
  return UNSAFE_BUT_NL.test(s) ? s.replace(UNSAFE_BUT_NL_ALL, escapeChar) : s;
}

// JSON.stringify escapes C0 but writes C1 and the bidi controls raw, and XML
// text carries them raw: someone will cat the file. They can only be inside
// strings or text there, where \uXXXX (JSON) or &#xXXXX; (XML) means the same.
const RAW_IN_DOCUMENTS = /[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const RAW_IN_DOCUMENTS_ALL = new RegExp(RAW_IN_DOCUMENTS.source, 'g');

const hex4 = (c: string) => c.charCodeAt(0).toString(16).padStart(4, '0');

/** A chunk of a document of this kind, safe to show on a terminal and meaning the same. */
export function safeChunk(kind: OutputKind, s: string): string {
  if (kind === 'text') return terminalChunk(s);
  // Every character it looks for is DEL or beyond ASCII: plain ASCII without DEL (a JSON report,
  // nearly always) is told by two native scans, several times faster than the expression's.
  if (Buffer.byteLength(s, 'utf8') === s.length && !s.includes('\x7f')) return s;
  if (!RAW_IN_DOCUMENTS.test(s)) return s;
  return s.replace(RAW_IN_DOCUMENTS_ALL, kind === 'json' ? (c) => `\\u${hex4(c)}` : (c) => `&#x${hex4(c)};`);
}

/**
 * A copy of a value (a Report, a check result, a process list) in which every
 * string is terminalText'ed. Objects and arrays that need no change are
 * returned as they are, and a shared object stays shared (one copy), so a
 * clean report costs one pass and no allocation. Depth is that of the data
 * (a report is ~8 deep; snapshots are depth-checked when read).
 */
export function terminalSafe<T>(value: T): T {
  const seen = new Map<object, unknown>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return terminalText(v);
    if (v === null || typeof v !== 'object') return v;
    const done = seen.get(v);
    if (done !== undefined) return done;
    seen.set(v, v); // a cycle (none expected) ends here
    let out: unknown = v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = walk(v[i]);
        if (x !== v[i]) {
          if (out === v) out = v.slice();
          (out as unknown[])[i] = x;
        }
      }
    } else {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const x = walk(o[k]);
        const key = terminalText(k);
        if (x !== o[k] || key !== k) {
          if (out === v) out = { ...o };
          if (key !== k) delete (out as Record<string, unknown>)[k];
          (out as Record<string, unknown>)[key] = x;
        }
      }
    }
    seen.set(v, out);
    return out;
  };
  return walk(value) as T;
}
