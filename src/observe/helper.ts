// The part of an observation that touches the target's files, run as the
// target's own uid/gid (never as root): creating and removing the
// .attach_pid trigger, connecting to the .java_pid socket, writing the
// recording's settings file, reading and deleting the recording, removing
// the JFR repository directory the observation made JFR create.
//
// Started by asuser.ts as `node --input-type=module -e <this file's text>`
// with the target's credentials, no supplementary groups, an empty
// environment and / as cwd; it imports nothing but Node's built-ins, so it
// runs even where the installed package is not readable by that user. It
// talks to the parent over stdin/stdout: one JSON request per line; answers
// are one JSON line, and file data comes as {"id","data":n} lines each
// followed by n raw bytes. It trusts nothing it finds in the target's
// directories: no symlink is followed at the last component (O_NOFOLLOW,
// lstat), files are created with O_EXCL, read only when they are regular
// files owned by the target's uid, removed only when still the same inode.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, rmdirSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

interface Request {
  id: number;
  op: string;
  [k: string]: unknown;
}

const { O_CREAT, O_EXCL, O_WRONLY, O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;
/** Names the observation creates in the target's /tmp; nothing else is ever written or removed there. */
const OUR_FILE = /^knetstat-[0-9a-f]{32}\.(jfc|jfr)$/;
/** JFR's repository directory name (jdk.jfr.internal.Repository: date, time, pid, optional _n). */
const JFR_REPOSITORY = /^[0-9]{4}_[0-9]{2}_[0-9]{2}_[0-9]{2}_[0-9]{2}_[0-9]{2}_[0-9]+(_[0-9]+)?$/;
const DATA_FRAME = 1 << 20;

/** Once hello is done: tmp is '.' (the JVM's /tmp is our working directory), cwd a /proc/self/fd path to its cwd. */
let target: { pid: number; nspid: number; uid: number; gid: number; root: string; tmp: string; cwd: string } | undefined;
/** The trigger file this helper created: removed only if still that inode. */
let trigger: { path: string; dev: number; ino: number } | undefined;

class Refusal extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function send(msg: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

function errCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if (errCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

function need(): NonNullable<typeof target> {
  if (!target) throw new Refusal('protocol', 'hello first');
  return target;
}

function ourName(v: unknown): string {
  if (typeof v !== 'string' || !OUR_FILE.test(v)) throw new Refusal('protocol', 'not a file name of ours');
  return v;
}

function hello(r: Request): Record<string, unknown> {
  const pid = Number(r.pid), nspid = Number(r.nspid), uid = Number(r.uid), gid = Number(r.gid);
  if (![pid, nspid, uid, gid].every((n) => Number.isSafeInteger(n) && n >= 0)) throw new Refusal('protocol', 'bad hello');
  if (process.geteuid!() !== uid || process.getegid!() !== gid) throw new Refusal('credentials', `helper runs as ${process.geteuid!()}/${process.getegid!()}, not ${uid}/${gid}`);
  if (uid !== 0 && process.getgroups!().includes(0) && !(Array.isArray(r.groups) && r.groups.includes(0))) throw new Refusal('credentials', 'helper kept the root group');
  const root = `/proc/${pid}/root`;
  target = { pid, nspid, uid, gid, root, tmp: `${root}/tmp`, cwd: `/proc/${pid}/cwd` };
  let st: Stats | undefined;
  try {
    st = lstatSync(target.tmp);
  } catch (e) {
    const c = errCode(e);
    if (c === 'ENOENT' || c === 'ESRCH') throw new Refusal('exited', 'the process has exited');
    throw new Refusal('no-access', `cannot reach the JVM's /tmp as its own user (${c ?? String(e)})`);
  }
  // A symlinked /tmp would be followed relative to our root, not the target's: refuse rather than guess.
  if (!st.isDirectory()) throw new Refusal('no-access', "the JVM's /tmp is not a directory");
  // Its working directory, held open: a trigger made there stays removable should the JVM exit meanwhile.
  try {
    target.cwd = `/proc/self/fd/${openSync(target.cwd, O_RDONLY | O_DIRECTORY)}`;
  } catch {
    target.cwd = ''; // not reachable as its user: the trigger goes to /tmp
  }
  // Work from inside it: the cwd pins that directory, so the files we name
  // stay reachable (and removable) even after the JVM exits and its
  // /proc/<pid>/root is gone.
  process.chdir(target.tmp);
  target.tmp = '.';
  return { groups: process.getgroups!() };
}

/** The attach socket: absent, the JVM's (a socket owned by its uid), or something else. */
function probe(): Record<string, unknown> {
  const t = need();
  const st = lstatOrUndefined(`${t.tmp}/.java_pid${t.nspid}`);
  if (!st) return { socket: 'absent' };
  // As the JDK's checkPermissions: owned by the JVM's uid, no access for others.
  if (!st.isSocket() || st.uid !== t.uid || (st.mode & 0o077) !== 0) return { socket: 'bogus', uid: st.uid, mode: st.mode };
  return { socket: 'ready' };
}

function createTrigger(): Record<string, unknown> {
  const t = need();
  const name = `.attach_pid${t.nspid}`;
  const tried: string[] = [];
  for (const [where, dir] of [['cwd', t.cwd], ['tmp', t.tmp]] as const) {
    if (!dir) continue;
    const path = `${dir}/${name}`;
    try {
      const fd = openSync(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600);
      try {
        const st = fstatSync(fd);
        trigger = { path, dev: st.dev, ino: st.ino };
      } finally {
        closeSync(fd);
      }
      return { where, created: true };
    } catch (e) {
      const c = errCode(e);
      if (c === 'EEXIST') {
        // Someone else's trigger (a concurrent jcmd): usable when it is a regular file of the JVM's user; not ours to remove.
        const st = lstatOrUndefined(path);
        if (st?.isFile() && st.uid === t.uid) return { where, created: false };
      }
      tried.push(`${where}: ${c ?? String(e)}`);
    }
  }
  throw new Refusal('no-access', `cannot create .attach_pid${t.nspid} in the JVM's working directory or /tmp (${tried.join(', ')})`);
}

function removeTrigger(): Record<string, unknown> {
  if (!trigger) return { removed: false };
  const { path, dev, ino } = trigger;
  trigger = undefined;
  const st = lstatOrUndefined(path);
  if (st && st.dev === dev && st.ino === ino) {
    unlinkSync(path);
    return { removed: true };
  }
  return { removed: false };
}

function request(r: Request): Promise<Record<string, unknown>> {
  const t = need();
  const p = probe();
  if (p.socket !== 'ready') throw new Refusal('no-socket', `the attach socket is ${p.socket}`);
  const bytes = Buffer.from(String(r.request), 'base64');
  const timeoutMs = Math.min(Number(r.timeoutMs) || 10_000, 600_000);
  const maxBytes = Math.min(Number(r.maxBytes) || 1 << 20, 16 << 20);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const s = connect({ path: `${t.tmp}/.java_pid${t.nspid}` });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Refusal('timeout', `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('connect', () => s.end(bytes));
    s.on('data', (d: Buffer) => {
      size += d.length;
      if (size > maxBytes) {
        clearTimeout(timer);
        s.destroy();
        reject(new Refusal('too-big', `answer larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(d);
    });
    s.on('end', () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(chunks).toString('base64') });
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(new Refusal('connect', `attach socket: ${errCode(e) ?? e.message}`));
    });
  });
}

function writeFile(r: Request): Record<string, unknown> {
  const t = need();
  const name = ourName(r.name);
  const data = Buffer.from(String(r.content), 'utf8');
  const fd = openSync(`${t.tmp}/${name}`, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
  } finally {
    closeSync(fd);
  }
  return { path: `/tmp/${name}` };
}

/** Streams one of our files to the parent, then removes it. */
async function readFile(r: Request): Promise<Record<string, unknown>> {
  const t = need();
  const name = ourName(r.name);
  const maxBytes = Number(r.maxBytes);
  const path = `${t.tmp}/${name}`;
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    if (errCode(e) === 'ENOENT') throw new Refusal('absent', `${name} was not written`);
    throw e;
  }
  let st: Stats;
  try {
    st = fstatSync(fd);
    if (!st.isFile() || st.uid !== t.uid) throw new Refusal('bogus', `${name} is not a regular file of the JVM's user`);
    if (st.size > maxBytes) throw new Refusal('too-big', `the recording is ${st.size} bytes, more than the ${maxBytes} allowed`);
    let total = 0;
    for (;;) {
      // A buffer per frame: a write to a full pipe is queued with the buffer itself, so reusing one
      // would overwrite data not yet sent. And wait for the pipe to drain: the file may be hundreds of MB.
      const buf = Buffer.allocUnsafe(DATA_FRAME);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      total += n;
      if (total > maxBytes) throw new Refusal('too-big', `the recording grew past ${maxBytes} bytes`);
      send({ id: r.id, data: n });
      if (!process.stdout.write(buf.subarray(0, n))) await new Promise((res) => process.stdout.once('drain', res));
    }
  } finally {
    closeSync(fd);
  }
  const again = lstatOrUndefined(path);
  if (again && again.dev === st.dev && again.ino === st.ino) unlinkSync(path);
  return { size: st.size };
}

function remove(r: Request): Record<string, unknown> {
  const t = need();
  const name = ourName(r.name);
  const path = `${t.tmp}/${name}`;
  const st = lstatOrUndefined(path);
  if (!st) return { removed: false };
  if (!st.isFile() || st.uid !== t.uid) throw new Refusal('bogus', `${name} is not a regular file of the JVM's user`);
  unlinkSync(path);
  return { removed: true };
}

/** Removes an empty JFR repository directory (path as the JVM sees it); a non-empty one stays. */
function rmdirRepository(r: Request): Record<string, unknown> {
  const t = need();
  const path = String(r.path);
  const parts = path.split('/');
  if (!path.startsWith('/') || parts.some((p) => p === '..' || p === '.') || !JFR_REPOSITORY.test(parts.at(-1)!)) {
    throw new Refusal('protocol', 'not a JFR repository path');
  }
  const full = `${t.root}${path}`;
  const st = lstatOrUndefined(full);
  if (!st) return { removed: false };
  if (!st.isDirectory() || st.uid !== t.uid) throw new Refusal('bogus', 'the repository is not a directory of the JVM\'s user');
  try {
    rmdirSync(full);
    return { removed: true };
  } catch (e) {
    if (errCode(e) === 'ENOTEMPTY' || errCode(e) === 'EEXIST') return { removed: false, notEmpty: true };
    throw e;
  }
}

/** The JVM's perf data file (/tmp/hsperfdata_<its user>/<nspid>), as base64; absent with -XX:-UsePerfData. */
function perfData(): Record<string, unknown> {
  const t = need();
  for (const d of readdirSync(t.tmp)) {
    if (!d.startsWith('hsperfdata_')) continue;
    const dir = lstatOrUndefined(`${t.tmp}/${d}`);
    if (!dir?.isDirectory() || dir.uid !== t.uid) continue;
    const path = `${t.tmp}/${d}/${t.nspid}`;
    let fd: number;
    try {
      fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch {
      continue;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.uid !== t.uid || st.size > 1 << 20) continue;
      const buf = Buffer.alloc(st.size);
      let off = 0;
      while (off < buf.length) {
        const n = readSync(fd, buf, off, buf.length - off, off);
        if (n <= 0) break;
        off += n;
      }
      return { perf: buf.subarray(0, off).toString('base64') };
    } finally {
      closeSync(fd);
    }
  }
  return {};
}

const OPS: Record<string, (r: Request) => Record<string, unknown> | Promise<Record<string, unknown>>> = {
  hello, probe, perfData, createTrigger, removeTrigger, request, writeFile, readFile, remove, rmdirRepository,
};

process.title = 'knetstat-java-helper';
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
let queue: Promise<void> = Promise.resolve();
lines.on('line', (line) => {
  // One request at a time, in order: answers and data frames never interleave.
  queue = queue.then(async () => {
    let r: Request;
    try {
      r = JSON.parse(line) as Request;
    } catch {
      send({ id: -1, ok: false, code: 'protocol', message: 'bad request' });
      return;
    }
    const op = OPS[r.op];
    try {
      if (!op) throw new Refusal('protocol', `unknown op ${String(r.op).slice(0, 20)}`);
      send({ id: r.id, ok: true, ...(await op(r)) });
    } catch (e) {
      const code = e instanceof Refusal ? e.code : errCode(e) ?? 'error';
      send({ id: r.id, ok: false, code, message: e instanceof Error ? e.message : String(e) });
    }
  });
});
lines.on('close', () => {
  // Parent gone: leave no trigger behind.
  void queue.then(() => {
    try { removeTrigger(); } catch { /* nothing more to do */ }
    process.exit(0);
  });
});
