// Snapshot files: a Capture wrapped in an envelope, written by
// `knetstat-java snapshot` and read back by `render` and `check --snapshot`
// on any machine (no root, no JVM, no syscall on the target). Reading
// migrates older formats forward and rejects newer ones, foreign files and
// damaged ones with one line that names what is wrong.
import { readFileSync } from 'node:fs';
import { FormatError, fsCode } from '../errors.js';
import { normalDiag } from '../linux/knetstat.js';
import { FORMAT_VERSION, type Capture } from '../model/types.js';
import { TOOL } from '../version.js';

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

/** Enough shape for analyze() and the renderers not to trip: the first bad field is named. */
function validate(c: unknown, origin: string): Capture {
  const bad = (field: string, what: string): never => { throw new FormatError(`${origin}: ${field}: ${what} (the snapshot is damaged or was edited)`); };
  if (!isObject(c)) bad('capture', 'missing or not an object');
  const cap = c as Record<string, unknown>;
  if (!isObject(cap.process)) bad('capture.process', 'missing or not an object');
  const p = cap.process as Record<string, unknown>;
  if (typeof p.pid !== 'number') bad('capture.process.pid', 'not a number');
  if (!Array.isArray(p.cmdline)) bad('capture.process.cmdline', 'not a list');
  if (!isObject(cap.host)) bad('capture.host', 'missing or not an object');
  if (!isObject((cap.host as Record<string, unknown>).sysctls)) bad('capture.host.sysctls', 'missing or not an object');
  if (!Array.isArray(cap.sources)) bad('capture.sources', 'not a list');
  if (!Array.isArray(cap.sockets)) bad('capture.sockets', 'not a list');
  if (!Array.isArray(cap.warnings)) bad('capture.warnings', 'not a list');
  if (!Array.isArray(cap.vanished)) cap.vanished = [];
  (cap.sockets as unknown[]).forEach((s, i) => {
    const at = `capture.sockets[${i}]`;
    if (!isObject(s)) bad(at, 'not an object');
    const sock = s as Record<string, unknown>;
    if (!['tcp', 'tcp6', 'udp', 'udp6'].includes(sock.protocol as string)) bad(`${at}.protocol`, `unknown protocol ${JSON.stringify(sock.protocol)}`);
    for (const k of ['local', 'remote']) {
      const e = sock[k];
      if (!isObject(e) || typeof e.address !== 'string' || typeof e.port !== 'number') bad(`${at}.${k}`, 'expected {"address": ..., "port": n}');
    }
    if (typeof sock.fd !== 'number') bad(`${at}.fd`, 'not a number');
    if (typeof sock.state !== 'string') bad(`${at}.state`, 'not a string');
    if (!isObject(sock.options)) bad(`${at}.options`, 'not an object');
    // Older tools stored Diag indicators side by side, on any synchronized state: the module's rule now.
    sock.diag = typeof sock.diag === 'string' && typeof sock.state === 'string' ? normalDiag(sock.state, sock.diag) : '';
    if (!Array.isArray(sock.sources)) sock.sources = [];
  });
  return cap as unknown as Capture;
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
    doc = JSON.parse(text);
  } catch (err) {
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
  const capture = validate(cur.capture, origin);
  return { ...(cur as unknown as Snapshot), capture };
}

export function readSnapshot(file: string): Snapshot {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = fsCode(err);
    throw new FormatError(`cannot read snapshot ${file}: ${code === 'EISDIR' ? 'a directory' : code ?? (err as Error).message}`, { cause: err });
  }
  return parseSnapshot(bytes, file);
}
