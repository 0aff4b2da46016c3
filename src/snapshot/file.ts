// Snapshot files: a Capture wrapped in an envelope, written by
// `knetstat-java snapshot` and read back by `render` and `check --snapshot`
// on any machine (no root, no JVM, no syscall on the target). Reading
// migrates older formats forward and rejects newer ones, foreign files and
// damaged ones with one line that names what is wrong.
import { FormatError } from '../errors.js';
import { readRegularFile } from '../linux/files.js';
import { normalDiag } from '../linux/knetstat.js';
import { FORMAT_VERSION, type Capture } from '../model/types.js';
import { parseJson, validate } from '../schema.js';
import { TOOL } from '../version.js';
import { CAPTURE_SCHEMA, SNAPSHOT_MAX_DEPTH } from './schema.js';

/** The largest snapshot read (a 50,000-socket capture is ~150 MB). */
export const SNAPSHOT_MAX_BYTES = 1 << 30;

export const SNAPSHOT_KIND = 'knetstat-java-snapshot';
/** The format this tool writes and the newest it reads. */
const SNAPSHOT_FORMAT = FORMAT_VERSION;

export interface Snapshot {
  kind: typeof SNAPSHOT_KIND;
  formatVersion: number;
  /** The tool that wrote it ("knetstat-java 0.1.0"). */
  writtenBy: string;
  redacted?: boolean;
  capture: Capture;
}

export function toSnapshot(capture: Capture): Snapshot {
  return {
    kind: SNAPSHOT_KIND,
    formatVersion: SNAPSHOT_FORMAT,
    writtenBy: `${TOOL.name} ${TOOL.version}`,
    ...(capture.redacted ? { redacted: true } : {}),
    capture,
  };
}

export function* renderSnapshot(capture: Capture): Generator<string> {
  yield `${JSON.stringify(toSnapshot(capture), null, 2)}\n`;
}

/**
 * formatVersion n -> n+1. Version 1 is the first format, so there is nothing to
 * migrate yet; when version 2 changes the layout, MIGRATIONS[1] turns a v1
 * document into a v2 one and every older snapshot still reads.
 */
const MIGRATIONS: Record<number, (doc: Record<string, unknown>) => Record<string, unknown>> = {};

export function migrate(doc: Record<string, unknown>, origin: string): Record<string, unknown> {
  const given = doc.formatVersion;
  if (typeof given !== 'number' || !Number.isInteger(given) || given < 1) {
    throw new FormatError(`${origin}: formatVersion ${JSON.stringify(given)} is not a snapshot format version (expected 1..${SNAPSHOT_FORMAT})`);
  }
  let v: number = given;
  if (v > SNAPSHOT_FORMAT) {
    throw new FormatError(`${origin}: snapshot format ${v} is newer than this tool (reads ${SNAPSHOT_FORMAT}): upgrade knetstat-java`);
  }
  while (v < SNAPSHOT_FORMAT) {
    const step = MIGRATIONS[v];
    if (!step) throw new FormatError(`${origin}: snapshot format ${v} can no longer be read by this tool (reads ${SNAPSHOT_FORMAT})`);
    doc = step(doc);
    v = doc.formatVersion as number;
  }
  return doc;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The capture as analyze() and the renderers need it (src/snapshot/schema.ts): the first bad field is named. */
function validateCapture(c: unknown, origin: string): Capture {
  const cap = validate<Capture>(c, CAPTURE_SCHEMA, origin, 'capture', ' (the snapshot is damaged or was edited)');
  // Older tools stored Diag indicators side by side, on any synchronized state: the module's rule now.
  for (const s of cap.sockets) s.diag = normalDiag(s.state, s.diag);
  return cap;
}

/** A snapshot from its bytes; origin names the file in errors. */
export function parseSnapshot(bytes: Buffer, origin: string): Snapshot {
  if (bytes.length === 0) throw new FormatError(`${origin} is empty: not a snapshot`);
  let text: string;
  try {
    if (bytes.includes(0)) throw new Error('NUL byte');
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FormatError(`${origin} is not a snapshot: binary data, not JSON text`);
  }
  let doc: unknown;
  try {
    doc = parseJson(text, origin, SNAPSHOT_MAX_DEPTH);
  } catch (err) {
    if (err instanceof FormatError) throw err;
    const msg = (err as Error).message.split('\n')[0]!;
    const at = /position (\d+)/.exec(msg);
    const atEnd = at !== null && Number(at[1]) >= text.trimEnd().length;
    if ((atEnd || /end of JSON input|Unterminated string/i.test(msg)) && /^\s*[[{]/.test(text)) {
      throw new FormatError(`${origin} is truncated: the JSON ends early after ${bytes.length} bytes (copy the whole file again)`);
    }
    throw new FormatError(`${origin} is not a snapshot: not valid JSON (${msg})`);
  }
  if (!isObject(doc) || doc.kind !== SNAPSHOT_KIND) {
    const report = isObject(doc) && Array.isArray(doc.sockets) && 'pid' in doc;
    throw new FormatError(`${origin} is not a knetstat-java snapshot (no "kind": "${SNAPSHOT_KIND}")${report ? ': it looks like a JSON report; snapshots are written by `knetstat-java snapshot <pid> -o FILE`' : ''}`);
  }
  const cur = migrate(doc, origin);
  const capture = validateCapture(cur.capture, origin);
  return { ...(cur as unknown as Snapshot), capture };
}

/** A regular file only (a FIFO would hang, /dev/zero never end), at most SNAPSHOT_MAX_BYTES. */
export function readSnapshot(file: string): Snapshot {
  return parseSnapshot(readRegularFile(file, { maxBytes: SNAPSHOT_MAX_BYTES, what: 'snapshot', noFollow: false }), file);
}
