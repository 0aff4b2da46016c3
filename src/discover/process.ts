// pid -> facts about the process: alive, state, owner, command line, JVM or not.
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { TargetError, UsageError, fsCode } from '../errors.js';
import { decodeArgv, decodeText, readProcBytes, readRegularFile } from '../linux/files.js';
import type { JvmInfo, ProcessInfo } from '../model/types.js';

export function parsePid(text: string): number {
  if (!/^[0-9]+$/.test(text)) {
    throw new UsageError(`not a process id: '${text}' (expected a positive number, e.g. knetstat-java 4242)`);
  }
  const pid = Number(text);
  if (!Number.isSafeInteger(pid) || pid < 1 || pid > 4194304) {
    throw new UsageError(`not a process id: ${text} (Linux pids are 1..4194304)`);
  }
  return pid;
}

function readProcRaw(pid: number, file: string): Buffer {
  try {
    return readProcBytes(`/proc/${pid}/${file}`);
  } catch (err) {
    const code = fsCode(err);
    if (code === 'ENOENT' || code === 'ESRCH') {
      throw new TargetError(`no such process: ${pid}`, { errno: code, remedy: 'check the pid with jps or knetstat-java list' });
    }
    throw err;
  }
}

/** A /proc/<pid> file as text, UTF-8 where valid (Linux keeps names as bytes). */
function readProc(pid: number, file: string): string {
  return decodeText(readProcRaw(pid, file));
}

/** State letter from /proc/<pid>/stat (after the parenthesised comm, which may contain spaces). */
export function processState(pid: number): string {
  const stat = readProc(pid, 'stat');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

export function userName(uid: number): string | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && Number(f[2]) === uid) return f[0];
    }
  } catch { /* no passwd: numbers only */ }
  return undefined;
}

/** The JVM's java.home from the libjvm.so mapped into it ($JAVA_HOME/lib/server/libjvm.so). */
export function javaHomeFromMaps(maps: string): string | undefined {
  const m = /\s(\/\S*\/libjvm\.so)(?: \(deleted\))?$/m.exec(maps);
  if (!m) return undefined;
  let d = dirname(m[1]!); // .../lib/server
  d = dirname(d); // .../lib
  if (d.endsWith('/jre/lib/amd64') || d.endsWith('/jre/lib/aarch64')) d = dirname(dirname(d)); // JDK 8 layout
  return dirname(d);
}

/**
 * The JDK's release file: a path the target's owner chose, so a regular file
 * only (a FIFO would hang, /dev/zero never end), 64 KiB at most (a real one
 * is ~1 KiB), not through a symbolic link.
 */
export function readRelease(javaHome: string): Pick<JvmInfo, 'version' | 'feature' | 'vendor'> {
  try {
    const text = decodeText(readRegularFile(`${javaHome}/release`, { maxBytes: 64 << 10, what: 'release file', noFollow: true }));
    const get = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?`, 'm').exec(text)?.[1];
    const version = get('JAVA_VERSION');
    let feature: number | undefined;
    if (version) feature = Number(version.startsWith('1.') ? version.split('.')[1] : version.split(/[.+-]/)[0]);
    return { version, feature: Number.isFinite(feature) ? feature : undefined, vendor: get('IMPLEMENTOR') };
  } catch {
    return {};
  }
}

/** Main class or jar from a java command line, like jps -l. */
export function mainClassOf(argv: string[]): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-jar') return argv[i + 1];
    if (a === '-cp' || a === '-classpath' || a === '--class-path' || a === '-p' || a === '--module-path' || a === '--add-opens' || a === '--add-exports' || a === '--add-modules') { i++; continue; }
    if (a === '-m' || a === '--module') return argv[i + 1];
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}

export function inspectProcess(pid: number): ProcessInfo {
  const state = processState(pid);
  if (state === 'Z' || state === 'X') {
    throw new TargetError(`process ${pid} is a zombie (it has exited; its parent has not reaped it): it has no sockets to report`);
  }
  const status = readProc(pid, 'status');
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  const comm = readProc(pid, 'comm').trimEnd();
  const cmdline = decodeArgv(readProcRaw(pid, 'cmdline'));
  let exe: string | undefined;
  try { exe = readlinkSync(`/proc/${pid}/exe`); } catch { /* another user's process */ }
  let maps = '';
  try { maps = readProc(pid, 'maps'); } catch (err) { if (err instanceof TargetError) throw err; }
  const javaHome = javaHomeFromMaps(maps);
  const isJvm = javaHome !== undefined;
  let jvm: JvmInfo | undefined;
  if (isJvm) {
    const properties: Record<string, string> = {};
    for (const a of cmdline) {
      const m = /^-D(java\.net\.[^=]+|jdk\.net\.[^=]+|sun\.net\.[^=]+)=(.*)$/.exec(a);
      if (m) properties[m[1]!] = m[2]!;
    }
    jvm = { javaHome, ...readRelease(javaHome), properties, mainClass: mainClassOf(cmdline) };
  }
  let netns: ProcessInfo['netns'];
  try {
    const theirs = statSync(`/proc/${pid}/ns/net`).ino;
    const ours = statSync('/proc/self/ns/net').ino;
    netns = { inode: theirs, own: theirs === ours };
  } catch { /* not permitted: leave unknown */ }
  return { pid, comm, cmdline, exe, uid, user: userName(uid), isJvm, jvm, netns };
}
