// Real JVMs for the --observe tests: JDK 17 and Temurin 25, optionally in a
// private /tmp (a tmpfs in a mount namespace of its own: what the JVM sees
// as /tmp is then exactly what the test inspects through /proc/<pid>/root),
// as another uid (setpriv), in a given working directory.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, lstatSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startJvm, WORK, type Jvm, type StartOptions } from './jvm.js';
import { frameworkClasspath } from './frameworks.js';

export const TEMURIN_25 = '/usr/lib/jvm/temurin-25-jdk-amd64';

export interface Jdk {
  name: string;
  feature: number;
  env: NodeJS.ProcessEnv;
}

export const JDKS: Jdk[] = [
  { name: 'JDK 17', feature: 17, env: process.env },
  ...(existsSync(join(TEMURIN_25, 'bin', 'java')) ? [{ name: 'Temurin 25', feature: 25, env: { ...process.env, PATH: `${TEMURIN_25}/bin:${process.env.PATH}` } }] : []),
];

/** A uid no account has: the tests' "ordinary user". */
export const TEST_UID = 61616;

export interface Isolation {
  /** A tmpfs of its own at /tmp. */
  privateTmp?: boolean;
  /** Run as this uid (and gid), no supplementary groups. */
  uid?: number;
  /** Working directory. */
  cwd?: string;
}

/** The entry of a private /tmp that is the checkout bound back (see wrapper()), if the checkout is under /tmp. */
export const CHECKOUT_IN_TMP = /^\/tmp\/([^/]+)/.exec(ROOT)?.[1];

function wrapper(iso: Isolation): string[] | undefined {
  const drop = iso.uid !== undefined ? ['setpriv', `--reuid=${iso.uid}`, `--regid=${iso.uid}`, '--clear-groups', '--'] : [];
  // A checkout under /tmp (a CI clone) would vanish under the tmpfs with the JVM's classes:
  // its top directory is bound back from the old /tmp, reached through the cwd the shell keeps
  // (--no-canonicalize: "." must not become its path, which names the new, empty /tmp).
  const keep = CHECKOUT_IN_TMP !== undefined ? `/tmp/${CHECKOUT_IN_TMP}` : undefined;
  const steps = [
    ...(iso.privateTmp ? [
      ...(keep ? [`cd '${keep}'`] : []),
      'mount -t tmpfs -o mode=1777,size=512m knetstat-jfr-tmp /tmp',
      ...(keep ? [`mkdir -p '${keep}'`, `mount --no-canonicalize --bind . '${keep}'`, 'cd /'] : []),
    ] : []),
    ...(iso.cwd ? ['cd "$KNETSTAT_JFR_CWD"'] : []),
    'exec "$@"',
  ];
  if (!iso.privateTmp && !iso.cwd) return drop.length ? drop : undefined;
  const sh = ['sh', '-c', steps.join(' && '), 'sh', ...drop];
  return iso.privateTmp ? ['unshare', '--mount', '--propagation', 'private', ...sh] : sh;
}

export interface Lab extends Jvm {
  send(line: string): void;
  /** The next line starting with prefix after the lines seen so far, parsed after the prefix. */
  next(prefix: string, timeoutMs?: number): Promise<any>;
}

export async function startLab(jdk: Jdk, main: string, args: string[], opts: { iso?: Isolation; jvmArgs?: string[]; cp?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<Lab> {
  const iso = opts.iso ?? {};
  const env = { ...jdk.env, ...opts.env, ...(iso.cwd ? { KNETSTAT_JFR_CWD: iso.cwd } : {}) };
  const w = wrapper(iso);
  const start: StartOptions = { env, ...(opts.jvmArgs ? { jvmArgs: opts.jvmArgs } : {}), ...(opts.cp ? { cp: opts.cp } : {}), ...(w ? { wrapper: w } : {}) };
  const jvm = await startJvm(main, args, start);
  let seen = jvm.stdout.length;
  return {
    ...jvm,
    send: (line: string) => { jvm.proc.stdin!.write(`${line}\n`); },
    next: async (prefix: string, timeoutMs = 30_000) => {
      const until = Date.now() + timeoutMs;
      for (;;) {
        for (; seen < jvm.stdout.length; seen++) {
          const l = jvm.stdout[seen]!;
          if (l.startsWith(prefix)) {
            seen++;
            const rest = l.slice(prefix.length).trim();
            return rest ? JSON.parse(rest) : {};
          }
        }
        if (Date.now() > until) throw new Error(`${main}: no ${prefix} line within ${timeoutMs} ms`);
        if (jvm.proc.exitCode !== null) throw new Error(`${main} exited (${jvm.proc.exitCode}) before ${prefix}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s*[ZX]/m.test(execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

/** Entries of a directory with their owner, as the JVM sees its /tmp (or any dir). */
export function entries(dir: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of readdirSync(dir)) {
    try { m.set(n, lstatSync(join(dir, n)).uid); } catch { /* gone meanwhile */ }
  }
  return m;
}

/** The JVM's own /tmp, from here. */
export function jvmTmp(pid: number): string {
  return `/proc/${pid}/root/tmp`;
}

/**
 * The attach trigger of this JVM in its working directory, if there: its own name only
 * (.attach_pid<its pid in its namespace>). Labs share a working directory (/ for a checkout
 * under /tmp, see wrapper()), where another test's attach to another JVM may have its own
 * trigger for a moment.
 */
export function cwdTrigger(pid: number): string[] {
  const nspid = /^NSpid:.*?(\d+)\s*$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? String(pid);
  return readdirSync(`/proc/${pid}/cwd`).filter((n) => n === `.attach_pid${nspid}`);
}

/** A JDK runtime image with java.base only (no jdk.jfr), made once with jlink. */
export function baseRuntime(): string {
  const dir = join(WORK, 'jre-java.base');
  if (!existsSync(join(dir, 'bin', 'java'))) {
    mkdirSync(WORK, { recursive: true });
    execFileSync('jlink', ['--add-modules', 'java.base', '--no-header-files', '--no-man-pages', '--output', dir], { stdio: 'inherit' });
  }
  return dir;
}

export const POOL_CLASSES = join(WORK, 'classes-observe');

/** Compiles samples/java/frameworks/HttpClientPool.java; undefined when libhttpclient5-java is missing. */
export function compileHttpClientPool(root: string): string[] | undefined {
  const jars = frameworkClasspath('httpclient5');
  if (!jars) return undefined;
  const src = join(root, 'samples', 'java', 'frameworks', 'HttpClientPool.java');
  const cls = join(POOL_CLASSES, 'HttpClientPool.class');
  mkdirSync(POOL_CLASSES, { recursive: true });
  if (!existsSync(cls) || statSync(cls).mtimeMs < statSync(src).mtimeMs) {
    execFileSync('javac', ['--release', '17', '-d', POOL_CLASSES, '-cp', jars.join(':'), '-nowarn', src], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return [POOL_CLASSES, ...jars];
}
