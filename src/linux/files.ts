// Reading files the tool is pointed at (a policy, a snapshot) or that a target
// process chose (its JDK's `release` file): regular files only, bounded, never
// blocking, and without opening anything else. Opening a FIFO blocks without a
// writer; opening a device runs its driver (a tape rewinds, a watchdog arms),
// so the path is first opened with O_PATH, which opens nothing, and only a
// regular file is then opened for reading, through /proc/self/fd (the same
// inode: no race with a rename). Also complete writes, and the decoding of
// bytes as text that /proc reads (linux/proc.ts) share.
import { closeSync, constants, fstatSync, openSync, readSync, writeSync, type Stats } from 'node:fs';
import { FormatError, fsCode } from '../errors.js';

const { O_RDONLY, O_NONBLOCK, O_NOFOLLOW, O_NOCTTY } = constants;
/** O_PATH and O_CLOEXEC (Linux, every architecture Node runs on): not in fs.constants. */
const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;

export interface SafeReadOptions {
  /** Refuse a file larger than this (bytes). */
  maxBytes: number;
  /** What the file is, for messages: "policy", "snapshot", "release file". */
  what: string;
  /** Refuse a symbolic link as the last component (for paths a target process chose). */
  noFollow?: boolean;
}

/** "a FIFO", "a character device" ...: what a non-regular file is, for one-line messages. */
export function fileKind(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function sizeText(n: number): string {
  return n >= 1 << 20 ? `${Math.round(n / (1 << 20))} MiB` : n >= 1024 ? `${Math.round(n / 1024)} KiB` : `${n} bytes`;
}

/**
 * The bytes of a regular file, at most maxBytes. Throws FormatError (exit 2)
 * naming the file and what is wrong: missing, unreadable, not a regular file
 * (FIFO, device, directory, socket, or a link with noFollow), too large.
 */
export function readRegularFile(path: string, opts: SafeReadOptions): Buffer {
  const fail = (why: string, cause?: unknown): never => {
    throw new FormatError(`cannot read ${opts.what} ${path}: ${why}`, { cause, errno: fsCode(cause) });
  };
  let handle: number | undefined;
  let fd: number | undefined;
  try {
    try {
      handle = openSync(path, O_PATH | O_CLOEXEC | (opts.noFollow ? O_NOFOLLOW : 0));
    } catch (err) {
      fail(fsCode(err) ?? (err as Error).message, err);
    }
    const st = fstatSync(handle!);
    if (!st.isFile()) fail(`${fileKind(st)}, not a regular file`);
    if (st.size > opts.maxBytes) fail(`larger than ${sizeText(opts.maxBytes)} (${sizeText(st.size)})`);
    try {
      fd = openSync(`/proc/self/fd/${handle}`, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    } catch (err) {
      fail(fsCode(err) ?? (err as Error).message, err);
    }
    const r = readUpTo(fd!, opts.maxBytes, st.size);
    if (r.more) fail(`larger than ${sizeText(opts.maxBytes)} (it grew while being read)`);
    return r.bytes;
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (handle !== undefined) closeSync(handle);
  }
}

/** Up to max bytes of fd from its current offset; more: the file goes on past them. */
export function readUpTo(fd: number, max: number, hint = 0): { bytes: Buffer; more: boolean } {
  let buf = Buffer.allocUnsafe(Math.min(Math.max(hint, 4096), max) + 1);
  let len = 0;
  for (;;) {
    if (len === buf.length) {
      if (len > max) return { bytes: buf.subarray(0, max), more: true };
      const next = Buffer.allocUnsafe(Math.min(buf.length * 2, max + 1));
      buf.copy(next, 0, 0, len);
      buf = next;
    }
    const n = readSync(fd, buf, len, buf.length - len, null);
    if (n === 0) return { bytes: buf.subarray(0, len), more: false };
    len += n;
    if (len > max) return { bytes: buf.subarray(0, max), more: true };
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 when the bytes are valid UTF-8, else Latin-1 (every byte kept, one character each). */
export function decodeText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Encoding room reused from one write to the next (a report is written as ~50 KB chunks). */
let scratch = Buffer.allocUnsafe(0);
const SCRATCH_MAX = 4 << 20;

/** A device number (st_rdev) as the kernel encodes it for user space (new_encode_dev: include/linux/kdev_t.h). */
export function deviceNumber(rdev: number): { major: number; minor: number } {
  return { major: Math.floor(rdev / 256) & 0xfff, minor: (rdev & 0xff) | ((rdev >>> 12) & ~0xff) };
}

/**
 * s as UTF-8, in memory that is reused by the next call (copy it to keep it):
 * a chunk is encoded into the same buffer each time, not into a new one.
 */
export function encodeUtf8(s: string): Uint8Array {
  const most = s.length * 3;
  if (most > SCRATCH_MAX) return Buffer.from(s, 'utf8');
  if (scratch.length < most) scratch = Buffer.allocUnsafe(Math.max(most, 64 << 10));
  return scratch.subarray(0, scratch.write(s, 0, 'utf8'));
}

/**
 * Writes all of data to fd or throws (ENOSPC, EIO, EPIPE ...): a short write
 * is continued, never ignored; EAGAIN (a non-blocking pipe that is full)
 * waits and retries. Returns the bytes written.
 */
export function writeAll(fd: number, data: string | Uint8Array): number {
  const buf = typeof data === 'string' ? encodeUtf8(data) : data;
  let off = 0;
  let wait = 1;
  while (off < buf.length) {
    let n: number;
    try {
      n = writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      const code = fsCode(err);
      if (code === 'EAGAIN' || code === 'EINTR') {
        Atomics.wait(sleeper, 0, 0, wait);
        wait = Math.min(wait * 2, 50);
        continue;
      }
      throw err;
    }
    if (n === 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
    off += n;
    wait = 1;
  }
  return off;
}
