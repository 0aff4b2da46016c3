// The tool's BPF object (bpf/knetstat.bpf.c, built into dist/bpf/): where it
// is, whether this host can run it, and its walks. A walk loads the programs
// it needs, attaches their iterators and reads every record in one buffer
// (linux/libbpf.ts), then decodes it (linux/bpfrecord.ts). Nothing here
// changes a socket or duplicates an fd; values stay as the kernel stores
// them (src/sources/bpf.ts converts them the way getsockopt does).
import { accessSync, constants } from 'node:fs';
import { release } from 'node:os';
import { assetPath, hasAsset, readAsset } from '../assets.js';
import { SysError } from '../errors.js';
import { decodeWalk, type Walk } from './bpfrecord.js';
import { ERRNO } from './inet.js';
import { hzFromSysctls, JIFFIES_SYSCTLS } from './jiffies.js';
import { BpfObject, VMLINUX_BTF, kernelBtfPresent, libbpf } from './libbpf.js';
import { status } from './proc.js';
import { readSysctls } from './sysctl.js';

/**
 * The object `npm run build` writes (bpf/Makefile), as an asset (src/assets.ts):
 * a file of the package from src/ (tests) and dist/ alike, carried by the
 * bundles (never a file beside a copied bundle: whoever could plant one there
 * would choose what root loads into the kernel). KNETSTAT_BPF_OBJECT names
 * another (tests).
 */
const BPF_ASSET = 'dist/bpf/knetstat.bpf.o';
/** Where the object is on disk, for a caller that wants a file (tests; the single executable would unpack it into its private directory). A capture reads its bytes (openObject). */
export function bpfObjectPath(): string {
  return process.env.KNETSTAT_BPF_OBJECT ?? assetPath(BPF_ASSET);
}

/** include/uapi/linux/capability.h: loading iterators needs CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON (Linux >= 5.8). */
const CAP_SYS_ADMIN = 21, CAP_PERFMON = 38, CAP_BPF = 39;
/** bpf_sock_from_file() and bpf_get_current_task_btf(), the newest helpers the walks use. */
const MIN_KERNEL: [number, number] = [5, 11];

const { E2BIG, EINVAL, EAGAIN, EIO, EACCES } = ERRNO;

function kernelVersion(rel = release()): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const has = (caps: bigint, cap: number) => ((caps >> BigInt(cap)) & 1n) === 1n;

/** Why the bpf source cannot run here, in one line; undefined when nothing cheap says no. */
export function bpfUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'BPF iterators need Linux';
  const v = kernelVersion();
  if (v && (v[0] < MIN_KERNEL[0] || (v[0] === MIN_KERNEL[0] && v[1] < MIN_KERNEL[1]))) {
    return `kernel ${release()} is too old for the bpf source (needs Linux >= ${MIN_KERNEL.join('.')}: BPF iterators over a process's files)`;
  }
  if (!kernelBtfPresent()) return `the kernel has no BTF (${VMLINUX_BTF} is missing: needs CONFIG_DEBUG_INFO_BTF=y)`;
  const env = process.env.KNETSTAT_BPF_OBJECT;
  let present = true;
  try {
    if (env) accessSync(env, constants.R_OK);
    else present = hasAsset(BPF_ASSET);
  } catch {
    present = false;
  }
  if (!present) {
    return `the BPF object ${env ?? BPF_ASSET} is missing (this build had no clang: npm run build with clang and libbpf-dev installed)`;
  }
  const caps = status('self').capEff ?? 0n;
  if (!has(caps, CAP_SYS_ADMIN) && !(has(caps, CAP_BPF) && has(caps, CAP_PERFMON))) {
    return 'loading BPF iterators needs root or CAP_BPF+CAP_PERFMON (this process has neither)';
  }
  const l = libbpf();
  if (!l.ok) return l.reason;
  return undefined;
}

/**
 * The process walk comes in two builds (bpf/knetstat.bpf.c): one types a
 * socket file's sk with bpf_skc_to_tcp_sock(), which newer verifiers refuse
 * for that (untrusted) pointer, the other with bpf_rdonly_cast() (Linux >=
 * 6.2). The one likelier to load is tried first, the other when the kernel
 * refuses it; the one that loaded is kept for the rest of the run.
 */
const TASK_FILE = 'knetstat_task_file';
const TASK_FILE_BUILDS = ['knetstat_task_file_cast', 'knetstat_task_file'];
let taskFileBuild: string | undefined;

/** The build of knetstat_task_file this kernel accepted (undefined before the first walk of a process). */
export function taskFileBuildInUse(): string | undefined {
  return taskFileBuild;
}

function taskFileOrder(): string[] {
  if (taskFileBuild) return [taskFileBuild];
  const v = kernelVersion();
  return v && (v[0] > 6 || (v[0] === 6 && v[1] >= 2)) ? TASK_FILE_BUILDS : [...TASK_FILE_BUILDS].reverse();
}

/**
 * One loaded object for the given programs (knetstat_task_file: the build of
 * it this kernel accepts, read under that name); a reason (SysError) when the
 * kernel refuses it.
 */
export function loadObject(programs: string[], targetTgid = 0): BpfObject {
  if (!programs.includes(TASK_FILE)) return loadOnce(programs, targetTgid);
  let refused: unknown;
  for (const build of taskFileOrder()) {
    try {
      const obj = loadOnce(programs.map((p) => (p === TASK_FILE ? build : p)), targetTgid);
      obj.alias(TASK_FILE, build);
      taskFileBuild = build;
      return obj;
    } catch (err) {
      if (!(err instanceof SysError && err.syscall === 'bpf_object__load' && (err.code === EACCES || err.code === EINVAL))) throw err;
      refused ??= err;
    }
  }
  throw refused;
}

/** A background load started by startProcessWalkLoad(), until loadProcessWalkInBackground() takes it. */
let started: Promise<BpfObject | undefined> | undefined;

/**
 * Starts the background load now, for a run about to capture through this
 * source (the bundles' preambles, src/cli/early.ts): the next
 * loadProcessWalkInBackground() takes it instead of starting its own. Does
 * nothing where the source cannot run.
 */
export function startProcessWalkLoad(): void {
  if (started || bpfUnavailable()) return;
  started = backgroundLoad();
}

/**
 * The process walk loaded on a worker thread (BpfObject.loadInBackground),
 * the build likelier to load only: undefined when anything fails, and the
 * caller loads with loadObject(), which says why.
 */
export function loadProcessWalkInBackground(): Promise<BpfObject | undefined> {
  const early = started;
  started = undefined;
  return early ?? backgroundLoad();
}

async function backgroundLoad(): Promise<BpfObject | undefined> {
  if (process.env.KNETSTAT_LIBBPF_DEBUG === '1') return undefined; // libbpf's messages wanted: the synchronous load prints them
  const build = taskFileOrder()[0]!;
  let obj: BpfObject;
  try {
    obj = openObject();
  } catch {
    return undefined;
  }
  try {
    obj.setRodataU32('.rodata', 0);
    await obj.loadInBackground([build]);
    obj.alias(TASK_FILE, build);
    taskFileBuild = build;
    return obj;
  } catch {
    obj.close();
    return undefined;
  }
}

/** The object, opened (not loaded): its bytes, from inside the bundle or the executable (never unpacked to a file), or the package's file. */
function openObject(): BpfObject {
  const opts = process.env.KNETSTAT_BTF ? { btfPath: VMLINUX_BTF } : {};
  const env = process.env.KNETSTAT_BPF_OBJECT;
  return env ? BpfObject.open(env, opts) : BpfObject.fromImage(readAsset(BPF_ASSET), BPF_ASSET, opts);
}

/**
 * The verifier gives up with EAGAIN when a signal arrives while it works (a
 * profiler's SIGPROF, a busy host): an object loads once, so it is opened
 * again for another try.
 */
function loadOnce(programs: string[], targetTgid: number): BpfObject {
  for (let attempt = 1; ; attempt++) {
    const obj = openObject();
    try {
      obj.setRodataU32('.rodata', targetTgid);
      obj.load(programs);
      return obj;
    } catch (err) {
      obj.close();
      if (!(err instanceof SysError && err.code === EAGAIN && attempt < 4)) throw err;
    }
  }
}

/**
 * The sockets process pid holds, read by the task_file iterator. Bound to the
 * process where the kernel can (Linux >= 6.1: only its files are walked);
 * elsewhere the program filters every task by a tgid set before load.
 * obj: a loaded object to use (and close) first.
 */
export function walkProcess(pid: number, obj?: BpfObject): Walk {
  let o = obj ?? loadObject(['knetstat_task_file']);
  try {
    try {
      return decodeWalk(o.readIter('knetstat_task_file', { pid }), 'task_file iterator');
    } catch (err) {
      if (!(err instanceof SysError) || err.syscall !== 'bpf_link_create' || (err.code !== E2BIG && err.code !== EINVAL)) throw err;
    }
    // A kernel without task iterator parameters (< 6.1): filter in the program.
    o.close();
    o = loadObject(['knetstat_task_file'], pid);
    return decodeWalk(o.readIter('knetstat_task_file'), 'task_file iterator');
  } finally {
    o.close();
  }
}

/** Every TCP and UDP socket of the network namespace this thread is in, and every process's socket fds. */
export function walkHost(): { tcp: Walk; udp: Walk; owners: Walk } {
  const o = loadObject(['knetstat_tcp', 'knetstat_udp', 'knetstat_owners']);
  try {
    return {
      tcp: decodeWalk(o.readIter('knetstat_tcp'), 'tcp iterator'),
      udp: decodeWalk(o.readIter('knetstat_udp'), 'udp iterator'),
      owners: decodeWalk(o.readIter('knetstat_owners'), 'owner iterator'),
    };
  } finally {
    o.close();
  }
}

/** HZ from a walk's end record; throws when the walk was cut short or HZ cannot be told. */
export function walkHz(w: Walk, what: string): number {
  if (!w.end) throw new SysError('read', EIO, `the ${what} stopped before its end record (the read was cut short)`);
  const secs = readSysctls(JIFFIES_SYSCTLS.map((n) => `net.ipv4.${n}`));
  const hz = hzFromSysctls(
    { tcp_keepalive_time: w.end.sysctl_keepalive_time, tcp_keepalive_intvl: w.end.sysctl_keepalive_intvl, tcp_fin_timeout: w.end.sysctl_fin_timeout },
    Object.fromEntries(JIFFIES_SYSCTLS.map((n) => [n, secs[`net.ipv4.${n}`]])),
  );
  if (!hz) throw new SysError('read', EINVAL, "cannot tell the kernel's HZ: net.ipv4.tcp_keepalive_time, tcp_keepalive_intvl and tcp_fin_timeout are all 0 or disagree");
  return hz;
}
