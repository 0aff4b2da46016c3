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

export const getsockopt = libc.func('int getsockopt(int fd, int level, int optname, void *optval, void *optlen)') as
  (fd: number, level: number, optname: number, optval: Buffer, optlen: Buffer) => number;
export const getsockname = libc.func('int getsockname(int fd, void *addr, void *addrlen)') as
  (fd: number, addr: Buffer, addrlen: Buffer) => number;
export const getpeername = libc.func('int getpeername(int fd, void *addr, void *addrlen)') as
  (fd: number, addr: Buffer, addrlen: Buffer) => number;
export const close = libc.func('int close(int fd)') as (fd: number) => number;
// ioctl is variadic in C; on the 64-bit ABIs a fixed pointer third argument is passed the same way.
export const ioctl = libc.func('int ioctl(int fd, unsigned long request, void *arg)') as
  (fd: number, request: number, arg: Buffer) => number;

// Netlink (sock_diag) and namespaces.
export const socket = libc.func('int socket(int domain, int type, int protocol)') as
  (domain: number, type: number, protocol: number) => number;
export const sendto = libc.func('long sendto(int fd, void *buf, size_t len, int flags, void *addr, uint32_t addrlen)') as
  (fd: number, buf: Buffer, len: number, flags: number, addr: Buffer | null, addrlen: number) => number;
export const recv = libc.func('long recv(int fd, void *buf, size_t len, int flags)') as
  (fd: number, buf: Buffer, len: number, flags: number) => number;
export const setns = libc.func('int setns(int fd, int nstype)') as (fd: number, nstype: number) => number;

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
