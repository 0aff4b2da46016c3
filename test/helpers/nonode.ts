// A host without Node, for the single executable: a minimal Debian (debootstrap
// --variant=minbase, the host's own suite and mirror, plus iproute2, whose
// libbpf1 the bpf source loads: it is wherever `ss` is) in test/.work, made once
// and reused while its stamp says the same. It has libc, libstdc++ and no Node,
// as a Java host may. Each run is `unshare --mount` + chroot: /proc and /sys
// (the kernel's BTF) are mounted in a private mount namespace, so they
// disappear with the command, whatever happens to the test.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, WORK } from './jvm.js';

export const EXE = join(ROOT, 'dist', 'knetstat-java');
export const ROOTFS = join(WORK, 'nonode-rootfs');
const STAMP = join(ROOTFS, '.knetstat-rootfs-ready');
/** Where the tests put files inside the chroot (its own /srv, emptied per run of prepare()). */
export const INSIDE = '/srv/knetstat';

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Why the chroot cannot be had here, or undefined when it can. */
export function chrootUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (chroot, mount)';
  for (const c of ['debootstrap', 'unshare', 'chroot']) if (!have(c)) return `${c} is not installed (apt-get install debootstrap util-linux coreutils)`;
  return undefined;
}

/** The host's Debian suite and first mirror (the chroot comes from the same registry as the host's packages). */
function suiteAndMirror(): { suite: string; mirror: string } {
  const os = readFileSync('/etc/os-release', 'utf8');
  const suite = /^VERSION_CODENAME=(\S+)/m.exec(os)?.[1] ?? 'bookworm';
  let mirror = 'http://deb.debian.org/debian';
  for (const f of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(f)) continue;
    const t = readFileSync(f, 'utf8');
    const m = /^URIs:\s*(\S+\/debian)\s*$/m.exec(t) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\s/m.exec(t);
    if (m) { mirror = m[1]!; break; }
  }
  return { suite, mirror };
}

/** Makes the rootfs unless a complete one is there (a half-made one is made again). */
/** What the rootfs holds beyond minbase; a change makes it again. */
const INCLUDE = ['iproute2'];

export function ensureRootfs(): void {
  const { suite, mirror } = suiteAndMirror();
  const stamp = `${suite} ${mirror} +${INCLUDE.join(',')}\n`;
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === stamp) return;
  rmSync(ROOTFS, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const r = spawnSync('debootstrap', ['--variant=minbase', `--include=${INCLUDE.join(',')}`, suite, ROOTFS, mirror], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`debootstrap ${suite} ${mirror} failed (${r.status}): ${(r.stderr || r.stdout).slice(-2000)}`);
  writeFileSync(STAMP, stamp);
}

/** Where the executable is inside (copied again only when dist/ has a newer one). */
const EXE_INSIDE = '/opt/knetstat-java/knetstat-java';

/** Empties INSIDE and copies the given files into it; returns their paths, and the executable's, as seen inside. */
export function prepare(files: Record<string, string> = {}): { exe: string; paths: Record<string, string> } {
  const exe = join(ROOTFS, EXE_INSIDE);
  const src = statSync(EXE);
  if (!existsSync(exe) || statSync(exe).size !== src.size || statSync(exe).mtimeMs < src.mtimeMs) {
    mkdirSync(join(exe, '..'), { recursive: true });
    copyFileSync(EXE, exe);
    chmodSync(exe, 0o755);
  }
  const dir = join(ROOTFS, INSIDE);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const paths: Record<string, string> = {};
  for (const [name, from] of Object.entries(files)) {
    copyFileSync(from, join(dir, name));
    paths[name] = `${INSIDE}/${name}`;
  }
  return { exe: EXE_INSIDE, paths };
}

/** The host-side path of a file the chroot wrote under INSIDE. */
export function outside(insidePath: string): string {
  return join(ROOTFS, insidePath);
}

export interface Run { code: number; stdout: string; stderr: string }

/** Runs argv inside the chroot with /proc mounted and a bare environment (PATH of a Debian root shell). */
export function inChroot(argv: string[], env: Record<string, string> = {}): Run {
  // The host's JDKs at their own paths, as on a Java host: the tool reads the target's java.home.
  const script = 'root="$1" && shift && mount -t proc proc "$root/proc" && mount -t sysfs sysfs "$root/sys" && mkdir -p "$root/usr/lib/jvm" && mount --bind -o ro /usr/lib/jvm "$root/usr/lib/jvm" && exec chroot "$root" "$@"';
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ROOTFS,
    'env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv],
  { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
