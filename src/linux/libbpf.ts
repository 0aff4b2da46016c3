// libbpf.so.1 through koffi: the calls that load a BPF object, attach one of
// its iterators and read what it writes. An object loads through libbpf's
// generated loader program, which the kernel runs (linux/bpfloader.ts has its
// layouts), and by libbpf's own bpf_object__load where that fails; both
// paths share one object's state (the programs chosen, its .rodata, the
// fallback's fresh copy): one piece, though over 400 lines. Every symbol used
// exists in libbpf 1.1.2 (Debian bookworm), whose iproute2 depends on it. The library is
// opened on first use, so a host without it gets a reason, not a crash.
// libbpf's own messages are routed to a buffer: warnings become part of the
// error when something fails, the rest is dropped (KNETSTAT_LIBBPF_DEBUG=1:
// all of them to stderr, for a CO-RE or verifier question). The libc calls
// it makes (read, pthread_sigmask, vsnprintf, close) are linux/libc.ts's.
import { existsSync, readFileSync } from 'node:fs';
import { SysError, errnoName } from '../errors.js';
import * as loader from './bpfloader.js';
import { ERRNO } from './inet.js';
import * as libc from './libc.js';
import { load } from '../packages.js';

/** koffi, loaded at the first call (src/packages.ts), not when this module is imported. */
const koffi = () => load('koffi');

/** Where libbpf and the kernel BTF are looked for; tests point these elsewhere. */
export const LIBBPF_NAME = process.env.KNETSTAT_LIBBPF ?? 'libbpf.so.1';
export const VMLINUX_BTF = process.env.KNETSTAT_BTF ?? '/sys/kernel/btf/vmlinux';

type Ptr = bigint | null;

const { EINTR, EAGAIN, ENOENT } = ERRNO;

interface Api {
  setPrint: (fn: bigint | null) => Ptr;
  openMem: (image: Buffer, size: number, opts: Buffer) => Ptr;
  genLoader: (obj: Ptr, opts: Buffer) => number;
  mapCreate: (type: number, name: string, keySize: number, valueSize: number, maxEntries: number, opts: null) => number;
  mapUpdate: (fd: number, key: Buffer, value: bigint, flags: number) => number;
  progLoad: (type: number, name: string, license: string, insns: bigint, insnCnt: number, opts: Buffer) => number;
  testRun: (progFd: number, opts: Buffer) => number;
  linkCreate: (progFd: number, targetFd: number, attachType: number, opts: Buffer) => number;
  load: (obj: Ptr) => number;
  close: (obj: Ptr) => void;
  findProgram: (obj: Ptr, name: string) => Ptr;
  nextProgram: (obj: Ptr, prev: Ptr) => Ptr;
  programName: (prog: Ptr) => string;
  setAutoload: (prog: Ptr, on: boolean) => number;
  nextMap: (obj: Ptr, prev: Ptr) => Ptr;
  mapName: (map: Ptr) => string;
  initialValue: (map: Ptr, size: Buffer) => Ptr;
  attachIter: (prog: Ptr, opts: Buffer | null) => Ptr;
  linkFd: (link: Ptr) => number;
  linkDestroy: (link: Ptr) => number;
  iterCreate: (linkFd: number) => number;
  major: () => number;
  minor: () => number;
}

let api: Api | undefined;
let loadError: string | undefined;
/** The print callback bind() gives libbpf (set aside while a load runs on another thread). */
let printer: unknown = null;
/** libbpf's warnings since the last clear (its INFO and DEBUG lines are dropped). */
const messages: string[] = [];

function bind(): Api {
  const lib = koffi().load(LIBBPF_NAME);
  const printFn = koffi().proto('int knetstat_libbpf_print(int level, void *fmt, void *ap)');
  const a: Api = {
    setPrint: lib.func('void *libbpf_set_print(void *fn)') as Api['setPrint'],
    openMem: lib.func('void *bpf_object__open_mem(void *buf, size_t size, void *opts)') as Api['openMem'],
    genLoader: lib.func('int bpf_object__gen_loader(void *obj, void *opts)') as Api['genLoader'],
    mapCreate: lib.func('int bpf_map_create(int type, const char *name, uint32_t key_size, uint32_t value_size, uint32_t max_entries, void *opts)') as Api['mapCreate'],
    mapUpdate: lib.func('int bpf_map_update_elem(int fd, void *key, void *value, uint64_t flags)') as Api['mapUpdate'],
    progLoad: lib.func('int bpf_prog_load(int type, const char *name, const char *license, void *insns, size_t insn_cnt, void *opts)') as Api['progLoad'],
    testRun: lib.func('int bpf_prog_test_run_opts(int prog_fd, void *opts)') as Api['testRun'],
    linkCreate: lib.func('int bpf_link_create(int prog_fd, int target_fd, int attach_type, void *opts)') as Api['linkCreate'],
    load: lib.func('int bpf_object__load(void *obj)') as Api['load'],
    close: lib.func('void bpf_object__close(void *obj)') as Api['close'],
    findProgram: lib.func('void *bpf_object__find_program_by_name(void *obj, const char *name)') as Api['findProgram'],
    nextProgram: lib.func('void *bpf_object__next_program(void *obj, void *prev)') as Api['nextProgram'],
    programName: lib.func('const char *bpf_program__name(void *prog)') as Api['programName'],
    setAutoload: lib.func('int bpf_program__set_autoload(void *prog, bool autoload)') as Api['setAutoload'],
    nextMap: lib.func('void *bpf_object__next_map(void *obj, void *prev)') as Api['nextMap'],
    mapName: lib.func('const char *bpf_map__name(void *map)') as Api['mapName'],
    initialValue: lib.func('void *bpf_map__initial_value(void *map, void *psize)') as Api['initialValue'],
    attachIter: lib.func('void *bpf_program__attach_iter(void *prog, void *opts)') as Api['attachIter'],
    linkFd: lib.func('int bpf_link__fd(void *link)') as Api['linkFd'],
    linkDestroy: lib.func('int bpf_link__destroy(void *link)') as Api['linkDestroy'],
    iterCreate: lib.func('int bpf_iter_create(int link_fd)') as Api['iterCreate'],
    major: lib.func('uint32_t libbpf_major_version(void)') as Api['major'],
    minor: lib.func('uint32_t libbpf_minor_version(void)') as Api['minor'],
  };
  // libbpf prints with vfprintf-style (fmt, va_list): format it with vsnprintf.
  const line = Buffer.alloc(1024);
  const debug = process.env.KNETSTAT_LIBBPF_DEBUG === '1';
  const cb = koffi().register((level: number, fmt: bigint, ap: bigint) => {
    if (level !== 0 && !debug) return 0; // LIBBPF_WARN only, unless asked for everything
    const n = libc.vsnprintf(line, line.length, fmt, ap);
    const text = n > 0 ? line.toString('utf8', 0, Math.min(n, line.length - 1)).trimEnd() : '';
    // Its warnings (LIBBPF_WARN) tagged, so that a caller can tell them from the chatter.
    if (debug) process.stderr.write(`libbpf${level === 0 ? ' warning' : ''}: ${text.replace(/^libbpf: /, '')}\n`);
    if (level !== 0) return 0;
    if (text) messages.push(text);
    if (messages.length > 200) messages.splice(0, messages.length - 200);
    return 0;
  }, koffi().pointer(printFn));
  printer = cb;
  a.setPrint(cb);
  return a;
}

/** The bound API, or why libbpf cannot be used here (cached). */
export function libbpf(): { ok: true; api: Api } | { ok: false; reason: string } {
  if (api) return { ok: true, api };
  if (loadError) return { ok: false, reason: loadError };
  try {
    api = bind();
    return { ok: true, api };
  } catch (err) {
    loadError = `cannot load ${LIBBPF_NAME} (${(err as Error).message.split('\n')[0]}): install libbpf1 (Debian/Ubuntu: apt-get install libbpf1; iproute2 depends on it)`;
    return { ok: false, reason: loadError };
  }
}

export function libbpfVersion(): string | undefined {
  const l = libbpf();
  return l.ok ? `${l.api.major()}.${l.api.minor()}` : undefined;
}

/** The last libbpf warning worth quoting (the verifier's verdict, a CO-RE failure...). */
function lastWarning(): string | undefined {
  const useful = messages.filter((m) => m && !/^-- (BEGIN|END) PROG LOAD LOG --$/.test(m));
  return useful.at(-1)?.replace(/^libbpf: /, '');
}

function fail(call: string, code: number, what: string): never {
  const w = lastWarning();
  throw new SysError(call, code, `${what}: ${errnoName(code)}${w ? ` (libbpf: ${w.slice(0, 300)})` : ''}`);
}

/** struct bpf_object_open_opts up to btf_custom_path (libbpf >= 0.6 knows all of them). */
function openOpts(btfPath?: string): { buf: Buffer; keep: Buffer[] } {
  const buf = Buffer.alloc(56);
  buf.writeBigUInt64LE(56n, 0); // sz
  // The name bpf_object__open_file would take from the file's (its maps are named after it: knetstat.rodata).
  const name = Buffer.from('knetstat\0');
  buf.writeBigUInt64LE(koffi().address(name), 8);
  const keep: Buffer[] = [name];
  if (btfPath) {
    const s = Buffer.from(`${btfPath}\0`);
    keep.push(s);
    buf.writeBigUInt64LE(koffi().address(s), 48);
  }
  return { buf, keep };
}

export interface IterLinkTask {
  /** Bind a task iterator to this thread group (union bpf_iter_link_info.task.pid, Linux >= 6.1). */
  pid: number;
}

/**
 * How a loaded object got into the kernel: through libbpf's generated loader
 * program, which the kernel runs (linux/bpfloader.ts), or by libbpf itself
 * (bpf_object__load), which is slower but says why when the kernel refuses.
 */
export type LoadPath = 'kernel loader' | 'libbpf';

/**
 * Whether load() tries the kernel loader first: not with a BTF file standing
 * in for the kernel's (CO-RE against that file is libbpf's alone), nor when
 * libbpf's messages are wanted or KNETSTAT_BPF_LOADER=libbpf says so (tests
 * compare the two).
 */
function kernelLoaderWanted(btfPath: string | undefined): boolean {
  return !btfPath && process.env.KNETSTAT_LIBBPF_DEBUG !== '1' && process.env.KNETSTAT_BPF_LOADER !== 'libbpf';
}

/**
 * One opened BPF object. open() -> optional rodata writes -> load(programs)
 * -> readIter() as often as needed -> close(). close() is idempotent and
 * releases everything; every error path releases what it made. The object's
 * file is read once: libbpf opens it from memory, again when a load through
 * the kernel loader fails and libbpf loads it itself.
 */
export class BpfObject {
  private obj: Ptr;
  private loaded = false;
  private by?: LoadPath;
  /** The loaded programs' fds when the kernel loader loaded them (libbpf's object then holds none). */
  private readonly progFds = new Map<string, number>();
  /** Names a caller reads a program by, to the program's own name. */
  private readonly names = new Map<string, string>();
  /** The rodata writes made, for a reopened object. */
  private readonly rodata = new Map<string, number>();

  private constructor(
    private readonly a: Api,
    private readonly image: Buffer,
    private readonly btfPath: string | undefined,
  ) {
    this.obj = null;
  }

  static open(path: string, opts: { btfPath?: string } = {}): BpfObject {
    let image: Buffer;
    try {
      image = readFileSync(path);
    } catch (err) {
      const code = -((err as NodeJS.ErrnoException).errno ?? -ENOENT);
      throw new SysError('open', code, `cannot open ${path}: ${errnoName(code)}`);
    }
    return BpfObject.fromImage(image, path, opts);
  }

  /** An object from its bytes (what: its name in messages); libbpf keeps no reference to the file it came from. */
  static fromImage(image: Buffer, what: string, opts: { btfPath?: string } = {}): BpfObject {
    const l = libbpf();
    if (!l.ok) throw new SysError('dlopen', ENOENT, l.reason);
    const o = new BpfObject(l.api, image, opts.btfPath);
    o.obj = o.openImage(what);
    return o;
  }

  private openImage(what = 'the BPF object'): Ptr {
    messages.length = 0;
    const o = openOpts(this.btfPath);
    const obj = this.a.openMem(this.image, this.image.length, o.buf);
    void o.keep;
    if (!obj) fail('bpf_object__open_mem', libc.errno(), `cannot open ${what}`);
    return obj;
  }

  /** How the object was loaded (undefined before load). */
  get loadedBy(): LoadPath | undefined {
    return this.by;
  }

  /** Writes a u32 into a read-only data section (.rodata...) before load; the section holds only that u32. */
  setRodataU32(section: string, value: number): void {
    if (this.loaded) throw new Error('setRodataU32 after load');
    this.writeRodata(section, value);
    this.rodata.set(section, value);
  }

  private writeRodata(section: string, value: number): void {
    for (let m = this.a.nextMap(this.obj, null); m; m = this.a.nextMap(this.obj, m)) {
      if (!this.a.mapName(m).endsWith(section)) continue;
      const size = Buffer.alloc(8);
      const p = this.a.initialValue(m, size);
      if (!p || size.readBigUInt64LE(0) !== 4n) break;
      koffi().encode(p, 'uint32_t', value);
      return;
    }
    throw new Error(`BPF object has no ${section} section with room for a u32`);
  }

  /** readIter(name) reads program (one of several builds of a walk, chosen at load). */
  alias(name: string, program: string): void {
    this.names.set(name, program);
  }

  /** Marks the named programs for loading; returns them in libbpf's order (the order it loads them in). */
  private autoload(programs: string[]): string[] {
    if (this.loaded) throw new Error('BPF object loaded twice');
    const order: string[] = [];
    for (let p = this.a.nextProgram(this.obj, null); p; p = this.a.nextProgram(this.obj, p)) {
      const name = this.a.programName(p);
      const on = programs.includes(name);
      this.a.setAutoload(p, on);
      if (on) order.push(name);
    }
    return order;
  }

  /**
   * libbpf writes the loader for this object (no syscall: it assumes a
   * current kernel) and the calls before the loader's run are made. Undefined
   * when any step fails (an older kernel): the object is then spent, and
   * reopened for libbpf's own load. The run itself (the kernel runs the
   * loader and, in it, the verifier) is the caller's, here or on a worker
   * thread; finish() takes its result and says whether the load is done.
   */
  private prepareKernelLoad(programs: string[]): { progFd: number; runOpts: Buffer; finish: (rc: number) => boolean } | undefined {
    const order = this.autoload(programs);
    const gen = loader.genLoaderOpts();
    if (this.a.genLoader(this.obj, gen) !== 0 || this.a.load(this.obj) !== 0) return void this.reopen();
    const code = loader.genLoaderResult(gen);
    const initial: bigint[] = [];
    for (let m = this.a.nextMap(this.obj, null); m; m = this.a.nextMap(this.obj, m)) {
      const p = this.a.initialValue(m, Buffer.alloc(8));
      initial.push(p ? koffi().address(p) : 0n);
    }
    const ctx = loader.loaderCtx(initial, order.length);
    const mapFd = this.a.mapCreate(loader.BPF_MAP_TYPE_ARRAY, '__loader.map', 4, code.dataSize, 1, null);
    if (mapFd < 0) return void this.reopen();
    const fdArray = Buffer.alloc(4);
    fdArray.writeInt32LE(mapFd);
    const loadOpts = loader.progLoadOpts(koffi().address(fdArray), loader.BPF_F_SLEEPABLE);
    const progFd = this.a.mapUpdate(mapFd, Buffer.alloc(4), code.data, 0) === 0
      ? this.a.progLoad(loader.BPF_PROG_TYPE_SYSCALL, '__loader.prog', 'Dual BSD/GPL', code.insns, code.insnsSize / 8, loadOpts)
      : -1;
    if (progFd < 0) {
      libc.close(mapFd);
      return void this.reopen();
    }
    const runOpts = loader.testRunOpts(koffi().address(ctx), ctx.length);
    const finish = (rc: number): boolean => {
      libc.close(progFd);
      libc.close(mapFd);
      const fds = loader.loaderFds(ctx, initial.length, order.length);
      // The programs hold their maps: the maps' own fds are not needed.
      for (const fd of fds.maps) if (fd >= 0) libc.close(fd);
      if (rc !== 0 || loader.testRunRetval(runOpts) < 0 || fds.progs.some((fd) => fd < 0)) {
        for (const fd of fds.progs) if (fd >= 0) libc.close(fd);
        return this.reopen();
      }
      order.forEach((name, i) => this.progFds.set(name, fds.progs[i]!));
      this.loaded = true;
      this.by = 'kernel loader';
      return true;
    };
    return { progFd, runOpts, finish };
  }

  /** A fresh libbpf object in place of a spent one (rodata as written); false, for prepareKernelLoad's finish. */
  private reopen(): false {
    this.a.close(this.obj);
    this.obj = null;
    this.obj = this.openImage();
    for (const [section, value] of this.rodata) this.writeRodata(section, value);
    return false;
  }

  /** Loads (verifies) only the named programs: through the kernel loader where it can, else by libbpf. */
  load(programs: string[]): void {
    // The verifier gives up (EAGAIN) when a signal is pending, e.g. every millisecond under a
    // profiler's SIGPROF: signals wait (blocked, not lost) while it works.
    const all = Buffer.alloc(128, 0xff), saved = Buffer.alloc(128);
    const blocked = libc.pthreadSigmask(libc.SIG_BLOCK, all, saved) === 0;
    let rc: number;
    try {
      const k = kernelLoaderWanted(this.btfPath) ? this.prepareKernelLoad(programs) : undefined;
      if (k?.finish(this.a.testRun(k.progFd, k.runOpts))) return;
      this.autoload(programs);
      messages.length = 0;
      rc = this.a.load(this.obj);
    } finally {
      if (blocked) libc.pthreadSigmask(libc.SIG_SETMASK, saved, null);
    }
    if (rc < 0) fail('bpf_object__load', -rc, 'the kernel refused the BPF program');
    this.loaded = true;
    this.by = 'libbpf';
  }

  /**
   * load() with its slow part on one of koffi's worker threads, so that this
   * thread can go on with other work meanwhile (most of a small report's bpf
   * cost): the kernel loader's run, or else libbpf's whole load (it parses
   * the kernel's BTF and runs the verifier). libbpf prints nothing
   * meanwhile: its print callback would have to wait for this thread. A
   * failure therefore carries no libbpf warning (and a signal on that thread
   * can make the verifier give up): the caller loads again with load() for
   * the reason. The object must not be used until the promise settles.
   */
  async loadInBackground(programs: string[]): Promise<void> {
    type Async = { async: (...args: unknown[]) => void };
    const k = kernelLoaderWanted(this.btfPath) ? this.prepareKernelLoad(programs) : undefined;
    if (k) {
      const testRun = this.a.testRun as unknown as Async;
      const rc = await new Promise<number>((resolve, reject) =>
        testRun.async(k.progFd, k.runOpts, (err: unknown, r: number) => (err ? reject(err) : resolve(r))));
      if (k.finish(rc)) return;
    }
    this.autoload(programs);
    const load = this.a.load as unknown as Async;
    this.a.setPrint(null);
    let rc: number;
    try {
      rc = await new Promise<number>((resolve, reject) => load.async(this.obj, (err: unknown, r: number) => (err ? reject(err) : resolve(r))));
    } finally {
      this.a.setPrint(printer as bigint | null);
    }
    if (rc < 0) throw new SysError('bpf_object__load', -rc, `the kernel refused the BPF program: ${errnoName(-rc)}`);
    this.loaded = true;
    this.by = 'libbpf';
  }

  /**
   * Attaches the iterator program, creates an iterator fd and reads it to the
   * end into one buffer. With task, the iterator is bound to that process
   * (Linux >= 6.1); an older kernel refuses the link info with E2BIG/EINVAL,
   * which is thrown as a SysError (syscall bpf_link_create) with that errno
   * for the caller to retry.
   */
  readIter(program: string, task?: IterLinkTask): Buffer {
    program = this.names.get(program) ?? program;
    let linfo: Buffer | undefined;
    if (task) {
      linfo = Buffer.alloc(16); // union bpf_iter_link_info (its task member: tid, pid, pid_fd)
      linfo.writeUInt32LE(task.pid, 4);
    }
    // 12: the task member only; the kernel checks that bytes past its own union are zero.
    const linfoLen = linfo ? 12 : 0;
    messages.length = 0;
    let linkFd: number, destroy: () => void;
    const progFd = this.progFds.get(program);
    if (progFd !== undefined) {
      const opts = loader.linkCreateOpts(linfo ? koffi().address(linfo) : 0n, linfoLen);
      linkFd = this.a.linkCreate(progFd, 0, loader.BPF_TRACE_ITER, opts);
      if (linkFd < 0) fail('bpf_link_create', -linkFd, `cannot attach ${program}`);
      destroy = () => libc.close(linkFd);
    } else {
      const prog = this.a.findProgram(this.obj, program);
      if (!prog) throw new Error(`BPF object has no program ${program}`);
      let opts: Buffer | null = null;
      if (linfo) {
        opts = Buffer.alloc(24); // struct bpf_iter_attach_opts
        opts.writeBigUInt64LE(24n, 0);
        opts.writeBigUInt64LE(koffi().address(linfo), 8);
        opts.writeUInt32LE(linfoLen, 16);
      }
      const link = this.a.attachIter(prog, opts);
      // Named by the syscall both paths make: callers tell a refused link by it.
      if (!link) fail('bpf_link_create', libc.errno(), `cannot attach ${program}`);
      linkFd = this.a.linkFd(link);
      destroy = () => this.a.linkDestroy(link);
    }
    void linfo;
    try {
      const fd = this.a.iterCreate(linkFd);
      if (fd < 0) fail('bpf_iter_create', -fd > 0 ? -fd : libc.errno(), `cannot create the ${program} iterator`);
      try {
        return readAll(fd);
      } finally {
        libc.close(fd);
      }
    } finally {
      destroy();
    }
  }

  close(): void {
    for (const fd of this.progFds.values()) libc.close(fd);
    this.progFds.clear();
    if (!this.obj) return;
    this.a.close(this.obj);
    this.obj = null;
  }
}

/** read() until EOF: the iterator hands out at most its seq_file buffer (32 KiB) per call. */
function readAll(fd: number): Buffer {
  const CHUNK = 64 * 1024;
  let buf = Buffer.allocUnsafe(1 << 20);
  let len = 0;
  for (;;) {
    if (buf.length - len < CHUNK) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, len);
      buf = bigger;
    }
    const n = Number(libc.read(fd, buf.subarray(len, len + CHUNK), CHUNK));
    if (n < 0) {
      const e = libc.errno();
      if (e === EINTR || e === EAGAIN) continue; // EAGAIN: the walk was paused, read on
      fail('read', e, 'reading the BPF iterator failed');
    }
    if (n === 0) return buf.subarray(0, len);
    len += n;
  }
}

/** Whether the kernel exposes its BTF (needed for CO-RE and for BPF iterators). */
export function kernelBtfPresent(path = VMLINUX_BTF): boolean {
  return existsSync(path);
}
