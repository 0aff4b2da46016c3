// --probe-jdk: derive the JDK's own defaults from the JDK that runs the target,
// instead of trusting mappings/jdk-defaults.json. Starts that JDK's java on
// samples/java/SocketLab.java with every socket kind and no option set, reads
// those sockets with the pidfd source, and keeps what differs from a fresh
// kernel socket: that is what the JDK set by itself. The probe JVM is ours,
// short-lived and bound to loopback; the target is never touched.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ProbeError } from '../errors.js';
import { PROJECT_ROOT, type JdkDefaultRow } from '../mappings.js';
import type { Capture, OptionValue } from '../model/types.js';

/** SocketLab ids -> the kind names analyze.ts uses. */
const KINDS: [string, string, string][] = [
  ['s', 'server', 'ServerSocket'], ['s.accepted', '', 'accepted Socket'], ['s.client', '', 'Socket'],
  ['ss', 'sschannel', 'ServerSocketChannel'], ['ss.accepted', '', 'accepted SocketChannel'], ['ss.client', '', 'SocketChannel'],
  ['u', 'udp', 'DatagramSocket'], ['m', 'mcast', 'MulticastSocket'], ['d', 'dchannel', 'DatagramChannel'], ['di', 'dchannelinet', 'DatagramChannel'],
];

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Compiles SocketLab for the target's JDK (class files for Java 11+), cached by source hash. */
function compileLab(javaHome: string): string {
  const src = join(PROJECT_ROOT, 'samples', 'java', 'SocketLab.java');
  const hash = createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12);
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'knetstat-java', `lab-${hash}`);
  if (existsSync(join(dir, 'SocketLab.class'))) return dir;
  mkdirSync(dir, { recursive: true });
  const javac = [join(javaHome, 'bin', 'javac'), 'javac'].find((j) => j === 'javac' || existsSync(j))!;
  try {
    execFileSync(javac, ['--release', '11', '-d', dir, src], { stdio: 'pipe' });
  } catch (err) {
    throw new ProbeError(`--probe-jdk needs javac (JDK 11 or newer) to compile its probe: ${(err as Error).message.split('\n')[0]}`, { remedy: 'install a JDK, or drop --probe-jdk to use mappings/jdk-defaults.json' });
  }
  return dir;
}

async function runLab(java: string, cp: string, v4stack: boolean): Promise<{ pid: number; sockets: Record<string, { localPort: number; remotePort: number }>; stop: () => void }> {
  const args = ['-Xmx32m', '-XX:TieredStopAtLevel=1', ...(v4stack ? ['-Djava.net.preferIPv4Stack=true'] : []), '-cp', cp, 'SocketLab', ...KINDS.filter((k) => k[1]).map(([id, kind]) => `${id}:${kind}`)];
  const p = spawn(java, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const ready = await new Promise<any>((res, rej) => {
    const t = setTimeout(() => rej(new ProbeError('--probe-jdk: the probe JVM did not start within 30 s')), 30_000);
    createInterface({ input: p.stdout! }).on('line', (l) => { if (l.startsWith('READY ')) { clearTimeout(t); res(JSON.parse(l.slice(6))); } });
    p.on('error', (e) => { clearTimeout(t); rej(new ProbeError(`--probe-jdk: cannot run ${java}: ${e.message}`)); });
    p.on('exit', (c) => { clearTimeout(t); rej(new ProbeError(`--probe-jdk: the probe JVM exited with ${c}`)); });
  });
  return { pid: ready.pid, sockets: ready.sockets, stop: () => { p.stdin?.end(); p.kill('SIGKILL'); } };
}

/** The JDK-defaults rows of the JDK at javaHome, measured now. */
export async function probeJdkDefaults(javaHome: string, version: string | undefined, captureFn: (pid: number) => Promise<Capture>): Promise<JdkDefaultRow[]> {
  const java = join(javaHome, 'bin', 'java');
  if (!existsSync(java)) throw new ProbeError(`--probe-jdk: no ${java} (the target's java.home)`, { remedy: 'drop --probe-jdk' });
  const cp = compileLab(javaHome);
  const rows: JdkDefaultRow[] = [];
  for (const v4stack of [false, true]) {
    const lab = await runLab(java, cp, v4stack);
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
        rows.push({
          kind, family: s.protocol.endsWith('6') ? 'inet6' : 'inet', options: options as JdkDefaultRow['options'],
          ...(s.options.backlog?.value != null ? { backlog: Number(s.options.backlog.value) } : {}),
          ...(v4stack ? { preferIPv4Stack: true } : {}),
          jdk: version ?? 'unknown', source: `live probe of ${javaHome} (--probe-jdk)`,
        });
      }
    } finally {
      lab.stop();
    }
  }
  return rows;
}
