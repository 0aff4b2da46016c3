// Start real JVMs from samples/java for tests. Sources are compiled once per
// test run (javac into test/.work/classes, skipped when up to date). A sample
// prints one line "READY <json>" on stdout when its sockets are set up, then
// waits until it is killed or its stdin closes.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './root.js';

export { ROOT };
export const WORK = join(ROOT, 'test', '.work');
export const CLASSES = join(WORK, 'classes');
const SRC = join(ROOT, 'samples', 'java');

/** Extra jars a sample needs (frameworks from Debian's /usr/share/java), colon-joined. */
export function classpath(extra: string[] = []): string {
  return [CLASSES, ...extra].join(':');
}

function newest(dir: string): number {
  let t = 0;
  for (const f of readdirSync(dir)) if (f.endsWith('.java')) t = Math.max(t, statSync(join(dir, f)).mtimeMs);
  return t;
}

/** Compile every samples/java/*.java that needs only the JDK (framework samples live in subfolders). */
export function compileSamples(): void {
  mkdirSync(CLASSES, { recursive: true });
  const stamp = join(CLASSES, '.stamp');
  const sources = newest(SRC);
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources) return;
  const files = readdirSync(SRC).filter((f) => f.endsWith('.java')).map((f) => join(SRC, f));
  // Test files compile in parallel workers while others already run JVMs: javac writes into a
  // private directory and each class file is renamed into place, so a JVM never loads a half-written one.
  const tmp = mkdtempSync(join(WORK, 'classes-new-'));
  try {
    execFileSync('javac', ['-d', tmp, '-Xlint:-options', ...files], { stdio: 'inherit' });
    const move = (from: string, to: string): void => {
      for (const e of readdirSync(from, { withFileTypes: true })) {
        if (e.isDirectory()) { mkdirSync(join(to, e.name), { recursive: true }); move(join(from, e.name), join(to, e.name)); }
        else renameSync(join(from, e.name), join(to, e.name));
      }
    };
    move(tmp, CLASSES);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // The stamp gets the sources' time as read before compiling: a source edited meanwhile is compiled next time.
  writeFileSync(stamp, '');
  utimesSync(stamp, sources / 1000, sources / 1000);
}

export interface Jvm {
  pid: number;
  /** Parsed JSON after READY. */
  ready: any;
  proc: ChildProcess;
  stdout: string[];
  stop(): Promise<void>;
}

export interface StartOptions {
  jvmArgs?: string[];
  cp?: string[];
  /** Run the JVM under another command, e.g. ['strace', '-f', ...] or ['setpriv', ...]. */
  wrapper?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** The java launcher (default: java on PATH), e.g. /usr/lib/jvm/temurin-25-jdk-amd64/bin/java. */
  java?: string;
}

export async function startJvm(mainClass: string, args: string[] = [], opts: StartOptions = {}): Promise<Jvm> {
  compileSamples();
  const javaArgs = ['-Xshare:auto', '-XX:+UseSerialGC', '-Xmx64m', ...(opts.jvmArgs ?? []), '-cp', classpath(opts.cp), mainClass, ...args];
  const java = opts.java ?? 'java';
  const [cmd, ...pre] = opts.wrapper ? [...opts.wrapper, java] : [java];
  const proc = spawn(cmd!, [...pre, ...javaArgs], { stdio: ['pipe', 'pipe', 'inherit'], env: opts.env ?? process.env });
  const stdout: string[] = [];
  const rl = createInterface({ input: proc.stdout! });
  const ready = await new Promise<any>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${mainClass} not READY within ${opts.timeoutMs ?? 90000} ms`)), opts.timeoutMs ?? 90000);
    rl.on('line', (line) => {
      stdout.push(line);
      if (line.startsWith('READY')) {
        clearTimeout(timer);
        const rest = line.slice(5).trim();
        res(rest ? JSON.parse(rest) : {});
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); rej(new Error(`${mainClass} exited with ${code} before READY`)); });
  });
  // The JVM's pid: a wrapper (strace, setpriv) may sit between us and java; samples report their own pid.
  const pid: number = typeof ready.pid === 'number' ? ready.pid : proc.pid!;
  return {
    pid, ready, proc, stdout,
    stop: () => new Promise<void>((res) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return res();
      proc.once('exit', () => res());
      proc.kill('SIGTERM');
      setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
    }),
  };
}
