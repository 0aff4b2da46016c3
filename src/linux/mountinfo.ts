// /proc/self/mountinfo (proc(5)): which mount holds a path, and its per-mount
// options. Used to avoid unpacking a shared object onto a noexec mount, where
// dlopen cannot map it.
import { readProcFile } from './proc.js';

export interface Mount {
  mountPoint: string;
  /** Per-mount options (field 6): rw, nosuid, noexec, ... */
  options: string[];
  fsType: string;
}

/** Mount points escape space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 10 || dash < 0) continue;
    out.push({ mountPoint: unescape(f[4]!), options: f[5]!.split(','), fsType: f[dash + 1]! });
  }
  return out;
}

/** The mount an absolute, symlink-free path lives on: the last listed mount whose point is its longest prefix. */
export function mountOf(realPath: string, mounts: Mount[] = parseMountinfo(readProcFile('self', 'mountinfo'))): Mount | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    const p = m.mountPoint;
    const inside = realPath === p || p === '/' || realPath.startsWith(`${p}/`);
    // Later lines stack over earlier ones at the same point, so >= keeps the last.
    if (inside && (!best || p.length >= best.mountPoint.length)) best = m;
  }
  return best;
}
