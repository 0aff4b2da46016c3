// Where a report goes, and the one-line messages on stderr (every line the
// tool writes there goes through stderrLine, made safe for a terminal).
//
// -o FILE (see README "Security"):
// - a new path or a regular file: written to a temporary file beside it
//   (random name, O_EXCL, mode 0600), every write checked, fsync'ed, given its
//   final mode (never more open than a new file: 0666 & ~umask, and no more
//   than the file it replaces), then renamed over the path: the file appears
//   only complete, and a failure (ENOSPC, EIO, SIGINT/SIGTERM) leaves nothing.
// - "-", /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: our own open
//   fd, written directly.
// - /dev/null, /dev/zero, /dev/full, a terminal of ours, a FIFO we own (with a
//   reader): written directly; nothing replaces them.
// - anything else is refused with exit 2: a symbolic link (a planted link
//   must not redirect root's output), another user's FIFO or terminal, other
//   devices (opening one can act: a watchdog arms, a tape rewinds), a
//   directory, a socket.
import {
  closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, openSync, readlinkSync, renameSync, unlinkSync, type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { onInterrupt } from '../cleanup.js';
import { UsageError, errnoText, fsCode } from '../errors.js';
import { O_CLOEXEC, deviceNumber, encodeUtf8, fileKind, writeAll } from '../linux/files.js';
import { status } from '../linux/proc.js';
import { safeChunk, terminalText, type OutputKind } from '../render/terminal.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;

/** "ENOSPC (no space left on device)", or the message of an error that has no errno. */
function why(err: unknown): string {
  const code = fsCode(err);
  return code ? errnoText(code) : (err as Error)?.message ?? String(err);
}

// Node writes stderr synchronously on Linux (file, pipe, terminal alike) and
// reports a failed write as an 'error' event: stderr gone (a full disk, a
// closed pipe) leaves nothing to tell, and must not crash the tool. Node makes
// process.stderr at its first use (1–2 ms: a stream over a file, pipe or
// terminal, which a run that says nothing never needs): the handler is
// attached then, whoever asks first (ours, ora, Node's own warnings).
const ignore = () => { /* nothing left to tell */ };
const made = Object.getOwnPropertyDescriptor(process, 'stderr');
if (made?.get && made.configurable) {
  let attached = false;
  Object.defineProperty(process, 'stderr', {
    configurable: true,
    enumerable: made.enumerable,
    get() {
      const s = made.get!.call(process) as NodeJS.WriteStream;
      if (!attached) { attached = true; s.on('error', ignore); }
      return s;
    },
  });
} else {
  process.stderr.on('error', ignore);
}

/** One line on stderr: "knetstat-java: <text>", the text made safe for a terminal. Never throws. */
export function stderrLine(text: string): void {
  try { process.stderr.write(`knetstat-java: ${terminalText(text)}\n`); } catch { /* stderr gone: nothing left to tell */ }
}

export function warn(text: string): void {
  stderrLine(`warning: ${text}`);
}

// A reader that goes away (`knetstat-java 42 | head`) is not an error: stop
// writing and exit quietly, like a tool killed by SIGPIPE (Node ignores it).
let stdoutGone = false;

export interface OutputOptions {
  /**
   * What the document is (default text: report text, knetstat tables, list, owner): every chunk
   * gets its last line of defence against controls reaching a terminal (src/render/terminal.ts).
   */
  as?: OutputKind;
}

type Direct = { kind: 'fd'; fd: number; name: string; close: boolean };
type Replace = { kind: 'replace'; path: string; existing?: Stats };

const STDOUT: Direct = { kind: 'fd', fd: 1, name: 'standard output', close: false };

const FD_ALIAS = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d+)$/;

function refuse(file: string, what: string): never {
  throw new UsageError(`will not write the report to ${file}: ${what}`);
}

function ourTerminals(): Set<number> {
  const out = new Set<number>();
  for (const fd of [0, 1, 2]) {
    try { const st = fstatSync(fd); if (st.isCharacterDevice()) out.add(st.rdev); } catch { /* closed */ }
  }
  return out;
}

/**
 * Devices that take a report without acting on it: null, zero, full (major 1) and /dev/tty
 * (5:0, always the caller's own terminal), or a pseudo-terminal (136-143, whoever's it is).
 */
function harmlessDevice(rdev: number): 'sink' | 'terminal' | undefined {
  const { major, minor } = deviceNumber(rdev);
  if ((major === 1 && (minor === 3 || minor === 5 || minor === 7)) || (major === 5 && minor === 0)) return 'sink';
  if (major >= 136 && major <= 143) return 'terminal';
  return undefined;
}

function devName(rdev: number): string {
  const { major, minor } = deviceNumber(rdev);
  return `${major}:${minor}`;
}

/** Opens a FIFO or device for writing, checking that what was opened is what was looked at. */
function openInto(file: string, st: Stats): Direct {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO without a reader fails (ENXIO) instead of hanging; O_NOCTTY: a terminal never becomes ours.
    fd = openSync(file, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  } catch (err) {
    if (fsCode(err) === 'ENXIO' && st.isFIFO()) refuse(file, 'a FIFO with no reader (start the reader first)');
    throw new UsageError(`cannot write ${file}: ${why(err)}`, { cause: err });
  }
  const now = fstatSync(fd);
  if (now.dev !== st.dev || now.ino !== st.ino || now.rdev !== st.rdev) {
    closeSync(fd);
    refuse(file, 'it was replaced while being opened');
  }
  return { kind: 'fd', fd, name: file, close: true };
}

function target(file: string | undefined): Direct | Replace {
  if (!file || file === '-' || file === '/dev/stdout') return STDOUT;
  if (file === '/dev/stderr') return { kind: 'fd', fd: 2, name: 'standard error', close: false };
  const alias = FD_ALIAS.exec(file);
  if (alias) {
    const fd = Number(alias[1]);
    try { fstatSync(fd); } catch { refuse(file, `fd ${fd} is not open`); }
    return { kind: 'fd', fd, name: file, close: false };
  }
  let st: Stats;
  try {
    st = lstatSync(file);
  } catch (err) {
    if (fsCode(err) === 'ENOENT') return { kind: 'replace', path: file };
    throw new UsageError(`cannot write ${file}: ${why(err)}`, { cause: err });
  }
  if (st.isFile()) return { kind: 'replace', path: file, existing: st };
  if (st.isSymbolicLink()) {
    let to = '?';
    try { to = readlinkSync(file); } catch { /* gone meanwhile */ }
    refuse(file, `a symbolic link (to ${to}); -o never follows one, so a planted link cannot redirect the report: give the file itself`);
  }
  const euid = process.geteuid?.() ?? -1;
  if (st.isFIFO()) {
    if (st.uid !== euid) refuse(file, `a FIFO owned by uid ${st.uid}, not by this user (the report would go to whoever reads it)`);
    return openInto(file, st);
  }
  if (st.isCharacterDevice()) {
    const kind = harmlessDevice(st.rdev);
    if (kind === 'sink') return openInto(file, st);
    if (kind === 'terminal') {
      if (st.uid !== euid && !ourTerminals().has(st.rdev)) refuse(file, `the terminal of uid ${st.uid}, not this user's`);
      return openInto(file, st);
    }
    refuse(file, `a character device (${devName(st.rdev)}); -o writes only into /dev/null, /dev/zero, /dev/full or a terminal of yours`);
  }
  refuse(file, `${fileKind(st)}, not a regular file`);
}

/** Our umask, read without changing it (process.umask() would); no Umask line (Linux < 4.7): the usual 022. */
function umask(): number {
  try { return status('self').umask ?? 0o022; } catch { return 0o022; }
}

/**
 * Rendering and writing are synchronous; every ~20 ms they let the event loop
 * run, so SIGINT/SIGTERM get to remove a temporary file mid-write.
 */
let lastYield = 0;
async function breathe(): Promise<void> {
  const now = Date.now();
  if (now - lastYield < 20) return;
  await new Promise((r) => setImmediate(r));
  lastYield = Date.now();
}

/**
 * A chunk through its last line of defence (safeChunk) and into fd. A JSON or
 * XML chunk that is ASCII without DEL (its UTF-8 is as long as the text), the
 * usual report, has nothing safeChunk would change: its encoding is written
 * as it is, one pass over the text instead of three.
 */
function writeChunk(fd: number, kind: OutputKind, c: string): void {
  if (kind !== 'text') {
    const bytes = encodeUtf8(c);
    if (bytes.length === c.length && bytes.indexOf(0x7f) < 0) {
      writeAll(fd, bytes);
      return;
    }
  }
  writeAll(fd, safeChunk(kind, c));
}

/** Writes chunks into an fd we hold; EPIPE ends quietly. */
/** One chunk into an fd we hold: false when its reader has gone (EPIPE, which ends the output quietly). */
function directChunk(t: Direct, kind: OutputKind, c: string): boolean {
  try {
    writeChunk(t.fd, kind, c);
    return true;
  } catch (err) {
    if (fsCode(err) === 'EPIPE') { if (t.fd === 1) stdoutGone = true; return false; }
    throw new UsageError(`cannot write ${t.name}: ${why(err)}`, { cause: err });
  }
}

async function writeDirect(t: Direct, chunks: Iterable<string>, kind: OutputKind): Promise<void> {
  try {
    for (const c of chunks) {
      await breathe();
      if (!directChunk(t, kind, c)) return;
    }
  } finally {
    if (t.close) {
      try { closeSync(t.fd); } catch { /* what was written is written */ }
    }
  }
}

async function writeReplacing(t: Replace, chunks: Iterable<string>, kind: OutputKind): Promise<void> {
  const dir = dirname(t.path);
  const fail = (err: unknown): never => { throw new UsageError(`cannot write ${t.path}: ${why(err)}`, { cause: err }); };
  let tmp = '';
  let fd = -1;
  let mine: Stats | undefined;
  let open = false;
  const undo = () => {
    if (open) { try { closeSync(fd); } catch { /* closing is all that is left */ } open = false; }
    if (!mine) return; // nothing made yet
    try {
      const st = lstatSync(tmp);
      if (st.dev === mine.dev && st.ino === mine.ino) unlinkSync(tmp);
    } catch { /* already gone */ }
  };
  // Registered before the file exists: until a handler is installed a signal kills at once, and a
  // file made before it would stay. Once installed, a signal is handled between two steps of this
  // function, never between the file's creation and `mine`, which are one synchronous step.
  const unregister = onInterrupt(undo);
  try {
    for (let attempt = 0; fd < 0; attempt++) {
      // Web Crypto's global (loaded on first use): node:crypto at import would cost every start-up.
      tmp = join(dir, `.${basename(t.path)}.${Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(8))).toString('hex')}.tmp`);
      try {
        fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600);
      } catch (err) {
        if (fsCode(err) !== 'EEXIST' || attempt >= 4) fail(err);
      }
    }
    open = true;
    mine = fstatSync(fd);
    lastYield = Date.now();
    for (const c of chunks) {
      await breathe();
      try { writeChunk(fd, kind, c); } catch (err) { fail(err); }
    }
    try {
      fsyncSync(fd);
      // Never more open than a new file, nor than the file replaced.
      let mode = 0o666 & ~umask();
      if (t.existing) mode &= t.existing.mode & 0o777;
      fchmodSync(fd, mode);
      open = false;
      closeSync(fd);
    } catch (err) { fail(err); }
    const st = lstatSync(tmp);
    if (st.dev !== mine.dev || st.ino !== mine.ino) throw new UsageError(`cannot write ${t.path}: its temporary file was replaced by someone else (the directory is writable by others)`);
    try { renameSync(tmp, t.path); } catch (err) { fail(err); }
  } catch (err) {
    undo();
    throw err;
  } finally {
    unregister();
  }
}

/**
 * Whether fd may be a terminal, asked without making process.stdout/stderr (Node's stream
 * modules, ~2.5 ms of a start), which a pipe, a file or /dev/null never needs: every terminal
 * is a character device, and none is a memory device (major 1: null, zero, full).
 */
export function mayBeTerminal(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isCharacterDevice() && deviceNumber(st.rdev).major !== 1;
  } catch {
    return false;
  }
}

/**
 * A short text (help, the version) straight to fd 1, synchronously, as reports are written
 * (never through process.stdout, which costs a start ~2.5 ms): a reader gone ends it quietly.
 */
export function stdoutText(text: string): void {
  if (!stdoutGone) directChunk(STDOUT, 'text', text);
}

/**
 * Writes a rendered document to stdout or FILE (see the top of this file).
 * Throws UsageError (exit 2, one line) when it cannot be written completely;
 * errors from rendering itself pass through as they are, and leave no file.
 */
export async function writeOutput(chunks: Iterable<string>, file?: string, opts: OutputOptions = {}): Promise<void> {
  const t = target(file);
  if (t.kind === 'fd') {
    if (t.fd === 1 && stdoutGone) return;
    await writeDirect(t, chunks, opts.as ?? 'text');
  } else {
    await writeReplacing(t, chunks, opts.as ?? 'text');
  }
}
