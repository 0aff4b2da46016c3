// Every libc call the tool makes, declared once at load through koffi.
// Buffers are passed as void* so callers can reuse them across calls.
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

// Syscall numbers of the generic table, identical on x86_64 and aarch64.
export const SYS_pidfd_open = 434;
export const SYS_pidfd_getfd = 438;

// glibc grew wrappers for these only in 2.36; syscall(2) works everywhere.
const syscall_pidfd_open = libc.func('syscall', 'long', ['long', 'int', 'uint']);
const syscall_pidfd_getfd = libc.func('syscall', 'long', ['long', 'int', 'int', 'uint']);

/** Memory of our own that native code reads and writes: see nativeBuffer(). */
export interface NativeMemory {
  readonly __nativeMemory: unique symbol;
}
/** A void * argument: a Buffer, or native memory from nativeBuffer() (no Buffer-to-pointer step per call). */
export type Ptr = Buffer | NativeMemory;

/**
 * size bytes of native memory that never move or get freed: ptr for the
 * calls, buf to read and write them from JavaScript (a view, not a copy).
 * For buffers passed on every call of a hot loop (linux/sockopt.ts: ~35 calls per socket).
 */
export function nativeBuffer(size: number): { ptr: NativeMemory; buf: Buffer } {
  const ptr = koffi.alloc('uint8_t', size) as unknown as NativeMemory;
  const buf = Buffer.from(koffi.view(ptr as never, size));
  buf.fill(0);
  return { ptr, buf };
}

export const getsockopt = libc.func('int getsockopt(int fd, int level, int optname, void *optval, void *optlen)') as
  (fd: number, level: number, optname: number, optval: Ptr, optlen: Ptr) => number;
export const getsockname = libc.func('int getsockname(int fd, void *addr, void *addrlen)') as
  (fd: number, addr: Ptr, addrlen: Ptr) => number;
export const getpeername = libc.func('int getpeername(int fd, void *addr, void *addrlen)') as
  (fd: number, addr: Ptr, addrlen: Ptr) => number;
export const close = libc.func('int close(int fd)') as (fd: number) => number;

/** fcntl(fd, F_GETFL): the file status flags of an fd we hold (a pidfd_getfd duplicate shares the target's open file, so its flags too). */
// Variadic in C; as with ioctl, a fixed third argument is passed the same way on the 64-bit ABIs (F_GETFL ignores it).
const fcntl = libc.func('int fcntl(int fd, int cmd, long arg)') as (fd: number, cmd: number, arg: number) => number;
export const F_GETFL = 3;
export function getFileFlags(fd: number): number {
  return fcntl(fd, F_GETFL, 0);
}
// ioctl is variadic in C; on the 64-bit ABIs a fixed pointer third argument is passed the same way.
export const ioctl = libc.func('int ioctl(int fd, unsigned long request, void *arg)') as
  (fd: number, request: number, arg: Ptr) => number;

/**
 * statx(2) (glibc >= 2.28; undefined without it): with AT_EMPTY_PATH and an empty
 * path it describes the fd itself. struct statx has the same layout on every
 * architecture, unlike struct stat. Half the cost of fs.fstatSync, which also
 * builds a Stats object per call.
 */
export const statx = (() => {
  try {
    return libc.func('int statx(int dirfd, const char *path, int flags, unsigned int mask, void *buf)') as
      (dirfd: number, path: string, flags: number, mask: number, buf: Ptr) => number;
  } catch {
    return undefined;
  }
})();
export const AT_EMPTY_PATH = 0x1000;
export const STATX_INO = 0x100;
/** struct statx: stx_mask (u32) at 0, stx_ino (u64) at 32. */
export const STATX_MASK_OFFSET = 0, STATX_INO_OFFSET = 32, STATX_SIZE = 256;

// Netlink (sock_diag) and namespaces.
export const socket = libc.func('int socket(int domain, int type, int protocol)') as
  (domain: number, type: number, protocol: number) => number;
export const sendto = libc.func('long sendto(int fd, void *buf, size_t len, int flags, void *addr, uint32_t addrlen)') as
  (fd: number, buf: Buffer, len: number, flags: number, addr: Buffer | null, addrlen: number) => number;
export const recv = libc.func('long recv(int fd, void *buf, size_t len, int flags)') as
  (fd: number, buf: Buffer, len: number, flags: number) => number;
export const setns = libc.func('int setns(int fd, int nstype)') as (fd: number, nstype: number) => number;
/** setns(2)'s nstype for a network namespace (include/uapi/linux/sched.h). */
export const CLONE_NEWNET = 0x40000000;
/** recv(2) without blocking. */
export const MSG_DONTWAIT = 0x40;

// The BPF loader (linux/libbpf.ts).
/** read(2): a BPF iterator's records. */
export const read = libc.func('long read(int fd, void *buf, size_t n)') as (fd: number, buf: Ptr, n: number) => number;
/** pthread_sigmask(3): signals wait while the BPF verifier works. */
export const pthreadSigmask = libc.func('int pthread_sigmask(int how, void *set, void *oldset)') as
  (how: number, set: Buffer | null, old: Buffer | null) => number;
export const SIG_BLOCK = 0, SIG_SETMASK = 2;
/** vsnprintf(3): formats libbpf's (fmt, va_list) messages. */
export const vsnprintf = libc.func('int vsnprintf(void *buf, size_t n, void *fmt, void *ap)') as
  (buf: Buffer, n: number, fmt: bigint, ap: bigint) => number;

// Sockets of our own only (the bpf self-check, linux/sockcalls.ts): the tool never
// calls these on a socket of the process it inspects.
export const setsockopt = libc.func('int setsockopt(int fd, int level, int optname, void *optval, uint32_t optlen)') as
  (fd: number, level: number, optname: number, optval: Buffer, optlen: number) => number;
export const bind = libc.func('int bind(int fd, void *addr, uint32_t addrlen)') as (fd: number, addr: Buffer, len: number) => number;
export const listen = libc.func('int listen(int fd, int backlog)') as (fd: number, backlog: number) => number;
export const connect = libc.func('int connect(int fd, void *addr, uint32_t addrlen)') as (fd: number, addr: Buffer, len: number) => number;
export const accept4 = libc.func('int accept4(int fd, void *addr, void *addrlen, int flags)') as
  (fd: number, addr: null, len: null, flags: number) => number;

export function pidfdOpen(pid: number): number {
  return Number(syscall_pidfd_open(SYS_pidfd_open, pid, 0));
}

export function pidfdGetfd(pidfd: number, targetFd: number): number {
  return Number(syscall_pidfd_getfd(SYS_pidfd_getfd, pidfd, targetFd, 0));
}

/** errno of the last failed call on this thread. */
export function errno(): number {
  return koffi.errno();
}
