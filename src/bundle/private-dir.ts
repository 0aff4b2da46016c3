// A directory only we can touch, for files the single executable must put on
// disk (koffi's native module, for dlopen). The tool runs as root on hosts
// shared with hostile users: a predictable or shared path would let one of them
// plant a shared object that root then loads. So: mkdtemp (random name, mode
// 0700) under a base whose every ancestor only root or we can rename entries
// in, on a mount that allows exec; each file created exclusively, checked
// after writing, removed as soon as it has served, and the directory removed at
// exit (signals included).
import { closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readSync, realpathSync, rmSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { KnetstatError } from '../errors.js';
import { mountOf } from '../linux/mountinfo.js';

/** The sticky bit (inode(7)); not among Node's fs.constants. */
const S_ISVTX = 0o1000;

const euid = (): number => process.geteuid?.() ?? -1;

/** Why path cannot hold our private directory, or undefined when it can. */
export function unsafeBase(path: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return 'does not exist';
  }
  // Every ancestor: owned by root or us, and nobody else may rename its entries
  // (not group/other-writable, unless sticky like /tmp).
  for (let p = real; ; p = dirname(p)) {
    const st = lstatSync(p);
    if (!st.isDirectory()) return `${p} is not a directory`;
    if (st.uid !== 0 && st.uid !== euid()) return `${p} is owned by uid ${st.uid}`;
    if ((st.mode & 0o022) !== 0 && (st.mode & S_ISVTX) === 0) return `${p} is writable by others`;
    if (p === sep) break;
  }
  const m = mountOf(real);
  if (m?.options.includes('noexec')) return `${m.mountPoint} is mounted noexec`;
  return undefined;
}

/** Candidate bases, best first: our own runtime dir, then the usual temporary dirs. */
function bases(): string[] {
  const c: string[] = [];
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg?.startsWith('/')) {
    try {
      const st = lstatSync(xdg);
      // sudo keeps the invoking user's XDG_RUNTIME_DIR: only ours counts.
      if (st.isDirectory() && st.uid === euid() && (st.mode & 0o077) === 0) c.push(xdg);
    } catch { /* absent */ }
  }
  c.push(tmpdir(), '/tmp', '/var/tmp', '/dev/shm');
  return [...new Set(c)];
}

export class PrivateDir {
  readonly path: string;
  private files = new Set<string>();
  private readonly onExit = (): void => this.remove();
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.remove();
    // Alone on this signal: die of it as we would have without the handler.
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  private static readonly SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

  private constructor(path: string) {
    this.path = path;
    process.once('exit', this.onExit);
    for (const s of PrivateDir.SIGNALS) process.once(s, this.onSignal);
  }

  /** Creates the directory under the first safe base. */
  static create(candidates: string[] = bases()): PrivateDir {
    const refused: string[] = [];
    for (const base of candidates) {
      const why = unsafeBase(base);
      if (why) {
        refused.push(`${base}: ${why}`);
        continue;
      }
      let dir: string;
      try {
        dir = mkdtempSync(join(realpathSync(base), 'knetstat-java-'));
      } catch (err) {
        refused.push(`${base}: ${(err as Error).message}`);
        continue;
      }
      const st = lstatSync(dir);
      if (!st.isDirectory() || st.uid !== euid() || (st.mode & 0o777) !== 0o700) {
        rmdirSync(dir);
        throw new KnetstatError(`${dir}: not the private directory mkdtemp should have made`);
      }
      return new PrivateDir(dir);
    }
    throw new KnetstatError(`no private place to unpack the native module (${refused.join('; ')})`, {
      remedy: 'set TMPDIR to a directory of your own (mode 0700, on a mount without noexec)',
    });
  }

  /** Writes bytes to name (created exclusively), checks what landed on disk, and returns its path. */
  write(name: string, bytes: Uint8Array, mode = 0o500): string {
    if (name.split('/').some((c) => c === '' || c === '.' || c === '..')) throw new KnetstatError(`bad asset name ${name}`);
    const file = join(this.path, name);
    if (dirname(file) !== this.path) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    this.files.add(name);
    try {
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
      fchmodSync(fd, mode);
    } finally {
      closeSync(fd);
    }
    verify(file, bytes);
    return file;
  }

  /** The file has served (e.g. dlopen mapped it): remove it, and the directory once empty (then true). */
  release(name: string): boolean {
    if (this.files.delete(name)) {
      try { unlinkSync(join(this.path, name)); } catch { /* already gone */ }
    }
    if (this.files.size > 0) return false;
    this.remove();
    return true;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
    this.files.clear();
    process.off('exit', this.onExit);
    for (const s of PrivateDir.SIGNALS) process.off(s, this.onSignal);
  }
}

/** The file at path is a regular file of ours, with one link, exactly these bytes. */
function verify(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== euid() || st.nlink !== 1 || st.size !== bytes.length || (st.mode & 0o077) !== 0) {
      throw new KnetstatError(`${path}: not the file just written (uid ${st.uid}, links ${st.nlink}, ${st.size} bytes)`);
    }
    // Compared byte for byte (memcmp; a hash of both would cost more for nothing).
    const buf = Buffer.allocUnsafe(1 << 20);
    let off = 0;
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; off += n) {
      if (off + n > bytes.length || buf.compare(bytes, off, off + n, 0, n) !== 0) throw new KnetstatError(`${path}: contents differ from what was written`);
    }
    if (off !== bytes.length) throw new KnetstatError(`${path}: contents differ from what was written`);
  } finally {
    closeSync(fd);
  }
}
