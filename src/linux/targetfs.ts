// Reading a file a target process names (an @argfile on its command line, its
// JVM's hsperfdata file) as that process would: in its own root
// (/proc/<pid>/root), from its own working directory, and only what its owner
// could read. Each component is opened with O_PATH and O_NOFOLLOW through the
// directory opened before it (/proc/self/fd/<dir>/<name>), so nothing is
// resolved in our own mount namespace; a symbolic link is followed by hand,
// inside the target's root (an absolute link restarts there, ".." never leaves
// it); every directory on the way must be searchable and the file readable by
// the owner's uid, gid or groups (root's always are), and the file must be a
// regular one, bounded, read without blocking (linux/files.ts readRegularFile).
// The owner picks these paths: a link into a file the owner could not read is
// refused, never followed on our rights.
import { closeSync, constants, fstatSync, openSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { fsCode } from '../errors.js';
import { O_CLOEXEC, readRegularFile } from './files.js';

const { O_NOFOLLOW, O_DIRECTORY } = constants;
/** O_PATH (Linux, every architecture Node runs on): not in fs.constants. */
const O_PATH = 0o10000000;
/** The kernel's limit on links in one path resolution (MAXSYMLINKS). */
const MAX_LINKS = 40;

/** Whose rights a read is made with: the target's owner. */
export interface Reader {
  uid: number;
  gid: number;
  groups: number[];
}

/** Why a file could not be read, in words for a note; the read itself never throws. */
export type TargetRead = { ok: true; bytes: Buffer; stat: Stats } | { ok: false; reason: string };

function may(st: Stats, who: Reader, bits: number): boolean {
  if (who.uid === 0) return true;
  const shift = st.uid === who.uid ? 6 : st.gid === who.gid || who.groups.includes(st.gid) ? 3 : 0;
  return ((st.mode >> shift) & bits) === bits;
}

/**
 * The bytes of path as process pid sees it (relative paths from cwd, itself a
 * path in the target's root), at most maxBytes; { ok: false } with a reason for
 * a missing file, a directory the owner cannot search, a file it cannot read,
 * a link loop, something that is not a regular file, or owner set and not the file's owner.
 */
export function readTargetFile(pid: number, path: string, opts: { reader: Reader; cwd?: string; maxBytes: number; what: string; owner?: number }): TargetRead {
  const held: number[] = [];
  const open = (p: string, flags: number): number => {
    const fd = openSync(p, flags | O_PATH | O_CLOEXEC);
    held.push(fd);
    return fd;
  };
  try {
    const root = open(`/proc/${pid}/root`, O_DIRECTORY);
    const start = path.startsWith('/') ? path : `${opts.cwd ?? '/'}/${path}`;
    const todo = start.split('/').filter((c) => c !== '' && c !== '.');
    const dirs: number[] = [root];
    let links = 0;
    let file: number | undefined;
    while (todo.length) {
      const name = todo.shift()!;
      const dir = dirs[dirs.length - 1]!;
      if (!may(fstatSync(dir), opts.reader, 0o1)) return { ok: false, reason: `${opts.what} ${path}: a directory on the way is not searchable by the process's user` };
      if (name === '..') { if (dirs.length > 1) dirs.pop(); continue; }
      const at = `/proc/self/fd/${dir}/${name}`;
      let fd: number;
      try {
        fd = open(at, O_NOFOLLOW);
      } catch (err) {
        return { ok: false, reason: `${opts.what} ${path}: ${fsCode(err) ?? 'cannot be opened'}` };
      }
      const st = fstatSync(fd);
      if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) return { ok: false, reason: `${opts.what} ${path}: too many symbolic links` };
        const target = readlinkSync(at);
        if (target.startsWith('/')) dirs.length = 1;
        todo.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
        continue;
      }
      if (todo.length === 0) { file = fd; break; }
      if (!st.isDirectory()) return { ok: false, reason: `${opts.what} ${path}: not a directory on the way` };
      dirs.push(fd);
    }
    if (file === undefined) return { ok: false, reason: `${opts.what} ${path}: not a file` };
    const st = fstatSync(file);
    if (!st.isFile()) return { ok: false, reason: `${opts.what} ${path}: not a regular file` };
    if (opts.owner !== undefined && st.uid !== opts.owner) return { ok: false, reason: `${opts.what} ${path}: not owned by the process's user` };
    if (!may(st, opts.reader, 0o4)) return { ok: false, reason: `${opts.what} ${path}: not readable by the process's user` };
    try {
      return { ok: true, bytes: readRegularFile(`/proc/self/fd/${file}`, { maxBytes: opts.maxBytes, what: opts.what }), stat: st };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  } catch (err) {
    return { ok: false, reason: `${opts.what} ${path}: ${fsCode(err) ?? (err as Error).message}` };
  } finally {
    for (const fd of held) closeSync(fd);
  }
}

/** The target's working directory as it sees it (a path in its own root); undefined when not permitted. */
export function targetCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** Names in a directory of the target's root (e.g. /tmp), at most max; [] when it cannot be listed. */
export function listTargetDir(pid: number, path: string, reader: Reader, max: number): string[] {
  const r = readTargetDirFd(pid, path, reader);
  if (r === undefined) return [];
  try {
    return readDirNames(r, max);
  } finally {
    closeSync(r);
  }
}

function readTargetDirFd(pid: number, path: string, reader: Reader): number | undefined {
  // Directories only, no link followed: /proc/<pid>/root/<each component>.
  let cur: number | undefined;
  try {
    cur = openSync(`/proc/${pid}/root`, O_PATH | O_DIRECTORY | O_CLOEXEC);
    for (const name of path.split('/').filter((c) => c !== '' && c !== '.' && c !== '..')) {
      if (!may(fstatSync(cur), reader, 0o1)) { closeSync(cur); return undefined; }
      const next = openSync(`/proc/self/fd/${cur}/${name}`, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      closeSync(cur);
      cur = next;
    }
    if (!may(fstatSync(cur), reader, 0o5)) { closeSync(cur); return undefined; }
    return cur;
  } catch {
    if (cur !== undefined) closeSync(cur);
    return undefined;
  }
}

function readDirNames(fd: number, max: number): string[] {
  // readdir through the held fd: /proc/self/fd/<fd> is that very directory.
  try {
    return readdirSync(`/proc/self/fd/${fd}`).slice(0, max);
  } catch {
    return [];
  }
}
