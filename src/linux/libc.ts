// Every libc call the tool makes, declared once through koffi. Buffers are
// passed as void* so callers can reuse them across calls.
//
// koffi (a dlopen of its native module, ~15 ms) is loaded at the first native
// call, not at import: commands that make none (--version, --help, render,
// list, check --snapshot) never load it. Each function below starts as a stub
// that declares them all and calls the real one; importers see the real
// function from then on (ES modules export live bindings), so the hot loops
// pay nothing for it.
import type Koffi from 'koffi';
import { load } from '../packages.js';

// Syscall numbers of the generic table, identical on x86_64 and aarch64.
export const SYS_pidfd_open = 434;
export const SYS_pidfd_getfd = 438;
export const SYS_pidfd_send_signal = 424;

/** Memory of our own that native code reads and writes: see nativeBuffer(). */
export interface NativeMemory {
  readonly __nativeMemory: unique symbol;
}
/** A void * argument: a Buffer, or native memory from nativeBuffer() (no Buffer-to-pointer step per call). */
export type Ptr = Buffer | NativeMemory;

type GetSockOpt = (fd: number, level: number, optname: number, optval: Ptr, optlen: Ptr) => number;
type AddrCall = (fd: number, addr: Ptr, addrlen: Ptr) => number;
type Statx = (dirfd: number, path: string, flags: number, mask: number, buf: Ptr) => number;

let k: typeof Koffi | undefined;
let hasStatx = false;
let syscall_pidfd_open: (nr: number, pid: number, flags: number) => number | bigint;
let syscall_pidfd_getfd: (nr: number, pidfd: number, fd: number, flags: number) => number | bigint;
let syscall_pidfd_send_signal: (nr: number, pidfd: number, sig: number, info: null, flags: number) => number | bigint;

/** Loads koffi and libc and declares every function (once). */
function declareAll(): typeof Koffi {
  if (k) return k;
  const koffi = load('koffi');
  const libc = koffi.load('libc.so.6');
  // glibc grew wrappers for these only in 2.36; syscall(2) works everywhere.
  syscall_pidfd_open = libc.func('syscall', 'long', ['long', 'int', 'uint']);
  syscall_pidfd_getfd = libc.func('syscall', 'long', ['long', 'int', 'int', 'uint']);
  syscall_pidfd_send_signal = libc.func('syscall', 'long', ['long', 'int', 'int', 'void *', 'uint']);
  getsockopt = libc.func('int getsockopt(int fd, int level, int optname, void *optval, void *optlen)');
  getsockname = libc.func('int getsockname(int fd, void *addr, void *addrlen)');
  getpeername = libc.func('int getpeername(int fd, void *addr, void *addrlen)');
  close = libc.func('int close(int fd)');
  // ioctl is variadic in C; on the 64-bit ABIs a fixed pointer third argument is passed the same way.
  ioctl = libc.func('int ioctl(int fd, unsigned long request, void *arg)');
  // fcntl is variadic too; F_GETFL ignores the fixed third argument.
  fcntl = libc.func('int fcntl(int fd, int cmd, long arg)');
  try {
    statx = libc.func('int statx(int dirfd, const char *path, int flags, unsigned int mask, void *buf)');
    hasStatx = true;
  } catch {
    statx = () => -1;
  }
  socket = libc.func('int socket(int domain, int type, int protocol)');
  sendto = libc.func('long sendto(int fd, void *buf, size_t len, int flags, void *addr, uint32_t addrlen)');
  recv = libc.func('long recv(int fd, void *buf, size_t len, int flags)');
  setns = libc.func('int setns(int fd, int nstype)');
  read = libc.func('long read(int fd, void *buf, size_t n)');
  pthreadSigmask = libc.func('int pthread_sigmask(int how, void *set, void *oldset)');
  vsnprintf = libc.func('int vsnprintf(void *buf, size_t n, void *fmt, void *ap)');
  setsockopt = libc.func('int setsockopt(int fd, int level, int optname, void *optval, uint32_t optlen)');
  bind = libc.func('int bind(int fd, void *addr, uint32_t addrlen)');
  listen = libc.func('int listen(int fd, int backlog)');
  connect = libc.func('int connect(int fd, void *addr, uint32_t addrlen)');
  accept4 = libc.func('int accept4(int fd, void *addr, void *addrlen, int flags)');
  k = koffi;
  return koffi;
}

/**
 * size bytes of native memory that never move or get freed: ptr for the
 * calls, buf to read and write them from JavaScript (a view, not a copy).
 * For buffers passed on every call of a hot loop (linux/sockopt.ts: ~35 calls per socket).
 */
export function nativeBuffer(size: number): { ptr: NativeMemory; buf: Buffer } {
  const koffi = declareAll();
  const ptr = koffi.alloc('uint8_t', size) as unknown as NativeMemory;
  const buf = Buffer.from(koffi.view(ptr as never, size));
  buf.fill(0);
  return { ptr, buf };
}

export let getsockopt: GetSockOpt = (...a) => (declareAll(), getsockopt(...a));
export let getsockname: AddrCall = (...a) => (declareAll(), getsockname(...a));
export let getpeername: AddrCall = (...a) => (declareAll(), getpeername(...a));
export let close: (fd: number) => number = (fd) => (declareAll(), close(fd));
export let ioctl: (fd: number, request: number, arg: Ptr) => number = (...a) => (declareAll(), ioctl(...a));

/** fcntl(fd, F_GETFL): the file status flags of an fd we hold (a pidfd_getfd duplicate shares the target's open file, so its flags too). */
export const F_GETFL = 3;
let fcntl: (fd: number, cmd: number, arg: number) => number = (...a) => (declareAll(), fcntl(...a));
export function getFileFlags(fd: number): number {
  return fcntl(fd, F_GETFL, 0);
}

/**
 * statx(2) (glibc >= 2.28; see haveStatx()): with AT_EMPTY_PATH and an empty
 * path it describes the fd itself. struct statx has the same layout on every
 * architecture, unlike struct stat. Half the cost of fs.fstatSync, which also
 * builds a Stats object per call.
 */
export let statx: Statx = (...a) => (declareAll(), statx(...a));
/** Whether this libc has statx (without it, statx() returns -1). */
export function haveStatx(): boolean {
  declareAll();
  return hasStatx;
}
export const AT_EMPTY_PATH = 0x1000;
export const STATX_INO = 0x100;
/** struct statx: stx_mask (u32) at 0, stx_ino (u64) at 32. */
export const STATX_MASK_OFFSET = 0, STATX_INO_OFFSET = 32, STATX_SIZE = 256;

// Netlink (sock_diag) and namespaces.
export let socket: (domain: number, type: number, protocol: number) => number = (...a) => (declareAll(), socket(...a));
export let sendto: (fd: number, buf: Buffer, len: number, flags: number, addr: Buffer | null, addrlen: number) => number =
  (...a) => (declareAll(), sendto(...a));
export let recv: (fd: number, buf: Buffer, len: number, flags: number) => number = (...a) => (declareAll(), recv(...a));
export let setns: (fd: number, nstype: number) => number = (...a) => (declareAll(), setns(...a));
/** setns(2)'s nstype for a network namespace (include/uapi/linux/sched.h). */
export const CLONE_NEWNET = 0x40000000;
/** recv(2) without blocking. */
export const MSG_DONTWAIT = 0x40;

// The BPF loader (linux/libbpf.ts).
/** read(2): a BPF iterator's records. */
export let read: (fd: number, buf: Ptr, n: number) => number = (...a) => (declareAll(), read(...a));
/** pthread_sigmask(3): signals wait while the BPF verifier works. */
export let pthreadSigmask: (how: number, set: Buffer | null, old: Buffer | null) => number = (...a) => (declareAll(), pthreadSigmask(...a));
export const SIG_BLOCK = 0, SIG_SETMASK = 2;
/** vsnprintf(3): formats libbpf's (fmt, va_list) messages. */
export let vsnprintf: (buf: Buffer, n: number, fmt: bigint, ap: bigint) => number = (...a) => (declareAll(), vsnprintf(...a));

// Sockets of our own only (the bpf self-check, linux/sockcalls.ts): the tool never
// calls these on a socket of the process it inspects.
export let setsockopt: (fd: number, level: number, optname: number, optval: Buffer, optlen: number) => number = (...a) => (declareAll(), setsockopt(...a));
export let bind: (fd: number, addr: Buffer, len: number) => number = (...a) => (declareAll(), bind(...a));
export let listen: (fd: number, backlog: number) => number = (...a) => (declareAll(), listen(...a));
export let connect: (fd: number, addr: Buffer, len: number) => number = (...a) => (declareAll(), connect(...a));
export let accept4: (fd: number, addr: null, len: null, flags: number) => number = (...a) => (declareAll(), accept4(...a));

export function pidfdOpen(pid: number): number {
  declareAll();
  return Number(syscall_pidfd_open(SYS_pidfd_open, pid, 0));
}

export function pidfdGetfd(pidfd: number, targetFd: number): number {
  return Number(syscall_pidfd_getfd(SYS_pidfd_getfd, pidfd, targetFd, 0));
}

/** pidfd_send_signal(2) without a siginfo: the signal as kill(2) sends it, to the process the pidfd pins. */
export function pidfdSendSignal(pidfd: number, sig: number): number {
  declareAll();
  return Number(syscall_pidfd_send_signal(SYS_pidfd_send_signal, pidfd, sig, null, 0));
}

/** errno of the last failed call on this thread. */
export function errno(): number {
  return declareAll().errno();
}
