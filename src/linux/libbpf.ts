// libbpf.so.1 through koffi: the calls that load a BPF object, attach one of
// its iterators and read what it writes. Every symbol used exists in libbpf
// 1.1.2 (Debian bookworm), whose iproute2 depends on it. The library is
// opened on first use, so a host without it gets a reason, not a crash.
// libbpf's own messages are routed to a buffer: warnings become part of the
// error when something fails, the rest is dropped (KNETSTAT_LIBBPF_DEBUG=1:
// all of them to stderr, for a CO-RE or verifier question). The libc calls
// it makes (read, pthread_sigmask, vsnprintf, close) are linux/libc.ts's.
import { existsSync } from 'node:fs';
import { SysError, errnoName } from '../errors.js';
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
  openFile: (path: string, opts: Buffer) => Ptr;
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
    openFile: lib.func('void *bpf_object__open_file(const char *path, void *opts)') as Api['openFile'],
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
  const keep: Buffer[] = [];
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
 * One opened BPF object. open() -> optional rodata writes -> load(programs)
 * -> readIter() as often as needed -> close(). close() is idempotent and
 * releases everything; every error path releases what it made.
 */
export class BpfObject {
  private obj: Ptr;
  private loaded = false;
  /** Names a caller reads a program by, to the program's own name. */
  private readonly names = new Map<string, string>();

  private constructor(private readonly a: Api, obj: Ptr) {
    this.obj = obj;
  }

  static open(path: string, opts: { btfPath?: string } = {}): BpfObject {
    const l = libbpf();
    if (!l.ok) throw new SysError('dlopen', ENOENT, l.reason);
    messages.length = 0;
    const o = openOpts(opts.btfPath);
    const obj = l.api.openFile(path, o.buf);
    void o.keep;
    if (!obj) fail('bpf_object__open_file', libc.errno(), `cannot open ${path}`);
    return new BpfObject(l.api, obj);
  }

  /** Writes a u32 into a read-only data section (.rodata...) before load; the section holds only that u32. */
  setRodataU32(section: string, value: number): void {
    if (this.loaded) throw new Error('setRodataU32 after load');
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

  private autoload(programs: string[]): void {
    if (this.loaded) throw new Error('BPF object loaded twice');
    for (let p = this.a.nextProgram(this.obj, null); p; p = this.a.nextProgram(this.obj, p)) {
      this.a.setAutoload(p, programs.includes(this.a.programName(p)));
    }
  }

  /** Loads (verifies) only the named programs. */
  load(programs: string[]): void {
    this.autoload(programs);
    messages.length = 0;
    // The verifier gives up (EAGAIN) when a signal is pending, e.g. every millisecond under a
    // profiler's SIGPROF: signals wait (blocked, not lost) while it works.
    const all = Buffer.alloc(128, 0xff), saved = Buffer.alloc(128);
    const blocked = libc.pthreadSigmask(libc.SIG_BLOCK, all, saved) === 0;
    let rc: number;
    try {
      rc = this.a.load(this.obj);
    } finally {
      if (blocked) libc.pthreadSigmask(libc.SIG_SETMASK, saved, null);
    }
    if (rc < 0) fail('bpf_object__load', -rc, 'the kernel refused the BPF program');
    this.loaded = true;
  }

  /**
   * load() on one of koffi's worker threads, so that this thread can go on
   * with other work while libbpf parses the kernel's BTF and the verifier
   * runs (most of a small report's bpf cost). libbpf prints nothing
   * meanwhile: its print callback would have to wait for this thread. A
   * failure therefore carries no libbpf warning (and a signal on that thread
   * can make the verifier give up): the caller loads again with load() for
   * the reason. The object must not be used until the promise settles.
   */
  async loadInBackground(programs: string[]): Promise<void> {
    this.autoload(programs);
    const load = this.a.load as unknown as { async: (obj: Ptr, cb: (err: unknown, rc: number) => void) => void };
    this.a.setPrint(null);
    let rc: number;
    try {
      rc = await new Promise<number>((resolve, reject) => load.async(this.obj, (err, r) => (err ? reject(err) : resolve(r))));
    } finally {
      this.a.setPrint(printer as bigint | null);
    }
    if (rc < 0) throw new SysError('bpf_object__load', -rc, `the kernel refused the BPF program: ${errnoName(-rc)}`);
    this.loaded = true;
  }

  /**
   * Attaches the iterator program, creates an iterator fd and reads it to the
   * end into one buffer. With task, the iterator is bound to that process
   * (Linux >= 6.1); an older kernel refuses the link info with E2BIG/EINVAL,
   * which is thrown as a SysError with that errno for the caller to retry.
   */
  readIter(program: string, task?: IterLinkTask): Buffer {
    program = this.names.get(program) ?? program;
    const prog = this.a.findProgram(this.obj, program);
    if (!prog) throw new Error(`BPF object has no program ${program}`);
    let opts: Buffer | null = null;
    let linfo: Buffer | undefined;
    if (task) {
      linfo = Buffer.alloc(16); // union bpf_iter_link_info (its task member: tid, pid, pid_fd)
      linfo.writeUInt32LE(task.pid, 4);
      opts = Buffer.alloc(24); // struct bpf_iter_attach_opts
      opts.writeBigUInt64LE(24n, 0);
      opts.writeBigUInt64LE(koffi().address(linfo), 8);
      opts.writeUInt32LE(12, 16); // the kernel checks bytes past its own union are zero
    }
    messages.length = 0;
    const link = this.a.attachIter(prog, opts);
    void linfo;
    if (!link) fail('bpf_program__attach_iter', libc.errno(), `cannot attach ${program}`);
    try {
      const fd = this.a.iterCreate(this.a.linkFd(link));
      if (fd < 0) fail('bpf_iter_create', -fd > 0 ? -fd : libc.errno(), `cannot create the ${program} iterator`);
      try {
        return readAll(fd);
      } finally {
        libc.close(fd);
      }
    } finally {
      this.a.linkDestroy(link);
    }
  }

  close(): void {
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
