// --probe-jdk: derive the JDK's own defaults from the JDK that runs the target,
// instead of trusting mappings/jdk-defaults.json. Starts that JDK's java on
// SocketLab (samples/java/SocketLab.java, compiled for Java 11 by `npm run
// build` into dist/probe/) with every socket kind and no option set, reads
// those sockets with the pidfd source, and keeps what differs from a fresh
// kernel socket: that is what the JDK set by itself.
//
// The target's java.home comes from its memory map, so its `bin/java` is a
// file the target's owner chose: it runs as that owner (uid, gid, groups,
// no capabilities, no_new_privs: src/linux/privdrop.ts), never with more
// rights. It runs from a private directory this tool made (mkdtemp, 0700, the
// class files copied in, readable by the target's group only), in a clean
// environment; nothing is compiled at run time and no cache is reused. The
// probe JVM is short-lived, bound to loopback, and killed at the end or on
// SIGINT/SIGTERM; the target itself is never touched.
import { chmodSync, chownSync, closeSync, constants, existsSync, fchownSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { assetNames, readAsset } from '../assets.js';
import { onInterrupt } from '../cleanup.js';
import { ProbeError } from '../errors.js';
import { readRegularFile, writeAll } from '../linux/files.js';
import { processCredentials, runAsArgv, type Credentials } from '../linux/privdrop.js';
import { mappings, type JdkDefaultRow } from '../mappings.js';
import { builtin } from '../builtins.js';
import type { Capture, OptionValue } from '../model/types.js';

/** SocketLab ids -> the kind names analyze.ts uses. */
const KINDS: [string, string, string][] = [
  ['s', 'server', 'ServerSocket'], ['s.accepted', '', 'accepted Socket'], ['s.client', '', 'Socket'],
  ['ss', 'sschannel', 'ServerSocketChannel'], ['ss.accepted', '', 'accepted SocketChannel'], ['ss.client', '', 'SocketChannel'],
  ['u', 'udp', 'DatagramSocket'], ['m', 'mcast', 'MulticastSocket'], ['d', 'dchannel', 'DatagramChannel'], ['di', 'dchannelinet', 'DatagramChannel'],
];

/** Accepted kinds and the listener kind whose accept() makes them (what they copy from it is the listener's, not theirs). */
const LISTENER_OF: Record<string, string> = { 'accepted Socket': 'ServerSocket', 'accepted SocketChannel': 'ServerSocketChannel' };

/**
 * An accepted socket's own JDK defaults: what it read less what it copied from the probe's
 * listener (sk_clone_lock: SO_REUSEADDR=1 is the listener's JDK default, inherited, and an
 * accepted socket whose listener the application changed must not be measured against it).
 */
function withoutInherited(rows: JdkDefaultRow[]): void {
  const inherited = mappings().inherited;
  for (const r of rows) {
    const lk = LISTENER_OF[r.kind];
    const l = lk ? rows.find((x) => x.kind === lk && x.family === r.family && !!x.preferIPv4Stack === !!r.preferIPv4Stack) : undefined;
    if (!l?.options) continue;
    for (const name of Object.keys(r.options ?? {})) {
      if (inherited.has(name) && same(r.options![name as keyof typeof r.options], l.options[name as keyof typeof l.options])) delete r.options![name as keyof typeof r.options];
    }
  }
}

/** The class files are built for this release (javac --release 11 in package.json). */
const PROBE_RELEASE = 11;
/**
 * Where `npm run build` puts them, as asset names (src/assets.ts): files of an
 * installed package (dist/ is in its files), carried inside the bundles.
 */
export const PROBE_CLASSES = 'dist/probe';
/** What the probe may print before READY: a JVM that says more is not our probe. */
const MAX_PROBE_OUTPUT = 1 << 16;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** /tmp as it should be: root's, sticky, searchable by all. */
function publicTmp(): boolean {
  try {
    const st = statSync('/tmp');
    return st.isDirectory() && st.uid === 0 && (st.mode & 0o1001) === 0o1001;
  } catch {
    return false;
  }
}

/** A directory only we can write, holding copies of the probe's class files, readable by `as` (its group). */
function privateClassDir(as: Credentials): { dir: string; remove: () => void } {
  const names = assetNames(PROBE_CLASSES).filter((n) => n.endsWith('.class'));
  if (!names.includes(`${PROBE_CLASSES}/SocketLab.class`)) {
    throw new ProbeError(`--probe-jdk: this installation has no probe classes (${PROBE_CLASSES}/SocketLab.class)`, { remedy: 'rebuild with npm run build (needs javac), or drop --probe-jdk' });
  }
  const root = (process.geteuid?.() ?? -1) === 0;
  const shareWith = root && as.uid !== 0 ? as.gid : undefined;
  // mode 0700 and a fresh random name; for another user, in a directory it can search ($TMPDIR may be root's own).
  const dir = mkdtempSync(join(shareWith !== undefined && publicTmp() ? '/tmp' : tmpdir(), 'knetstat-java-probe-'));
  const remove = () => { try { rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ } };
  try {
    for (const n of names) {
      const bytes = readAsset(n, (file) => readRegularFile(file, { maxBytes: 1 << 20, what: 'probe class', noFollow: true }));
      const fd = openSync(join(dir, basename(n)), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o440);
      try {
        writeAll(fd, bytes);
        if (shareWith !== undefined) fchownSync(fd, 0, shareWith);
      } finally {
        closeSync(fd);
      }
    }
    if (shareWith !== undefined) {
      chownSync(dir, 0, shareWith);
      chmodSync(dir, 0o750);
    }
  } catch (err) {
    remove();
    throw err;
  }
  return { dir, remove };
}

interface Lab { pid: number; sockets: Record<string, { localPort: number; remotePort: number }>; stop: () => Promise<void> }

function validReady(v: unknown): v is { pid: number; sockets: Record<string, { localPort: number; remotePort: number }> } {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  if (!Number.isSafeInteger(r.pid) || typeof r.sockets !== 'object' || r.sockets === null) return false;
  return Object.values(r.sockets).every((s) => typeof s === 'object' && s !== null &&
    Number.isInteger((s as Record<string, unknown>).localPort) && Number.isInteger((s as Record<string, unknown>).remotePort));
}

async function runLab(java: string, dir: string, as: Credentials, v4stack: boolean): Promise<Lab> {
  const [wrapper, ...pre] = runAsArgv(as);
  const args = [
    ...pre, java, '-Xmx32m', '-XX:TieredStopAtLevel=1', '-XX:-UsePerfData',
    ...(v4stack ? ['-Djava.net.preferIPv4Stack=true'] : []), '-cp', dir, 'SocketLab',
    ...KINDS.filter((k) => k[1]).map(([id, kind]) => `${id}:${kind}`),
  ];
  // A clean environment: nothing of ours (JAVA_TOOL_OPTIONS, _JAVA_OPTIONS, LD_*) reaches the probe.
  const p = builtin('node:child_process').spawn(wrapper!, args, { cwd: dir, env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: dir }, stdio: ['pipe', 'pipe', 'ignore'] });
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  const stop = async () => {
    if (p.exitCode === null && p.signalCode === null) { p.kill('SIGKILL'); await exited; }
  };
  const unregister = onInterrupt(() => { p.kill('SIGKILL'); });
  try {
    const ready = await new Promise<unknown>((res, rej) => {
      const t = setTimeout(() => rej(new ProbeError('--probe-jdk: the probe JVM did not start within 30 s')), 30_000);
      let seen = 0;
      let line = '';
      p.stdout!.setEncoding('utf8');
      p.stdout!.on('data', (d: string) => {
        seen += d.length;
        line += d;
        let nl: number;
        while ((nl = line.indexOf('\n')) >= 0) {
          const l = line.slice(0, nl);
          line = line.slice(nl + 1);
          if (l.startsWith('READY ')) {
            clearTimeout(t);
            try { res(JSON.parse(l.slice(6))); } catch { rej(new ProbeError(`--probe-jdk: ${java} is not the probe (its READY line is not JSON)`)); }
            return;
          }
        }
        if (seen > MAX_PROBE_OUTPUT) { clearTimeout(t); rej(new ProbeError(`--probe-jdk: ${java} printed more than ${MAX_PROBE_OUTPUT} bytes without READY: not the probe`)); }
      });
      p.on('error', (e) => { clearTimeout(t); rej(new ProbeError(`--probe-jdk: cannot run ${java}: ${e.message}`)); });
      p.on('exit', (c, sig) => { clearTimeout(t); rej(new ProbeError(`--probe-jdk: the probe JVM (${java}, run as uid ${as.uid}) exited with ${c ?? sig} before it was ready`)); });
    });
    // setpriv execs java in place: the probe is our child itself. Any other pid is not ours to read.
    if (!validReady(ready) || ready.pid !== p.pid) {
      throw new ProbeError(`--probe-jdk: ${java} is not the probe (it answered for pid ${JSON.stringify((ready as { pid?: unknown })?.pid)}, not its own ${p.pid})`);
    }
    return { pid: ready.pid, sockets: ready.sockets, stop: async () => { unregister(); await stop(); } };
  } catch (err) {
    unregister();
    await stop();
    throw err;
  }
}

export interface ProbeTarget {
  /** The target process: its owner is who the probe runs as. */
  pid: number;
  javaHome: string;
  version?: string;
  feature?: number;
}

/** The JDK-defaults rows of the target's JDK, measured now. */
export async function probeJdkDefaults(target: ProbeTarget, captureFn: (pid: number) => Promise<Capture>): Promise<JdkDefaultRow[]> {
  const { javaHome, version } = target;
  const java = join(javaHome, 'bin', 'java');
  if (!existsSync(java)) throw new ProbeError(`--probe-jdk: no ${java} (the target's java.home)`, { remedy: 'drop --probe-jdk' });
  if (target.feature !== undefined && target.feature < PROBE_RELEASE) {
    throw new ProbeError(`--probe-jdk: the probe is built for Java ${PROBE_RELEASE} or newer; the target runs JDK ${version ?? target.feature}`, { remedy: 'drop --probe-jdk: mappings/jdk-defaults.json applies' });
  }
  // Read after java.home was: a process that changed users since is run as the later (never the higher) one.
  const as = processCredentials(target.pid);
  runAsArgv(as); // refused before anything is created when this user may not run as the owner
  // Registered before the directory exists: a signal between its creation and a handler would leave it.
  let priv: ReturnType<typeof privateClassDir> | undefined;
  const unregister = onInterrupt(() => priv?.remove());
  const rows: JdkDefaultRow[] = [];
  try {
    priv = privateClassDir(as);
    for (const v4stack of [false, true]) {
      const pass: JdkDefaultRow[] = [];
      const lab = await runLab(java, priv.dir, as, v4stack);
      try {
        const cap = await captureFn(lab.pid);
        for (const [id, , kind] of KINDS) {
          const info = lab.sockets[id];
          if (!info) continue;
          const s = cap.sockets.find((x) => x.local.port === info.localPort && (info.remotePort ? x.remote.port === info.remotePort : x.state === 'LISTEN' || x.protocol.startsWith('udp')));
          if (!s) continue;
          const fresh = cap.host.kernelDefaults?.[s.protocol] ?? {};
          const options: Record<string, OptionValue> = {};
          for (const [name, r] of Object.entries(s.options)) {
            if (name === 'backlog' || r.value === null || name === 'TCP_QUICKACK' || name === 'TCP_MAXSEG') continue;
            if (/BUF$/.test(name) && s.state === 'ESTABLISHED') continue; // autotuned, not the JDK's
            if (!same(r.value, fresh[name])) options[name] = r.value;
          }
          pass.push({
            kind, family: s.protocol.endsWith('6') ? 'inet6' : 'inet', options: options as JdkDefaultRow['options'],
            ...(s.options.backlog?.value != null ? { backlog: Number(s.options.backlog.value) } : {}),
            ...(v4stack ? { preferIPv4Stack: true } : {}),
            jdk: version ?? 'unknown', source: `live probe of ${javaHome} (--probe-jdk)`,
          });
        }
        withoutInherited(pass);
        rows.push(...pass);
      } finally {
        await lab.stop();
      }
    }
  } finally {
    unregister();
    priv?.remove();
  }
  return rows;
}
