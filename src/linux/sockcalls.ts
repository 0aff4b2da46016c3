// The socket calls that build sockets of our own (the bpf self-check makes
// them, sets options on them and compares what the kernel stored with what
// getsockopt says). Never used on another process's socket: the tool only
// reads those. Declarations: linux/libc.ts; numbers: linux/inet.ts.
import { SysError } from '../errors.js';
import { AF_INET, AF_INET6, SOCK_CLOEXEC } from './inet.js';
import * as libc from './libc.js';

export const closeFd = libc.close;

function check(rc: number, call: string, what: string): number {
  if (rc < 0) {
    const e = libc.errno();
    throw new SysError(call, e, `${call} ${what} failed: errno ${e}`);
  }
  return rc;
}

export function socket(family: number, type: number): number {
  return check(libc.socket(family, type | SOCK_CLOEXEC, 0), 'socket', `(${family}, ${type})`);
}

/** setsockopt with an int, a (onoff, seconds) linger, a timeval in ms, or a string (TCP_CONGESTION). */
export function setsockopt(fd: number, level: number, name: number, value: number | string | { onoff: number; linger: number } | { ms: number }): void {
  let b: Buffer;
  if (typeof value === 'number') { b = Buffer.alloc(4); b.writeInt32LE(value); }
  else if (typeof value === 'string') b = Buffer.from(value, 'latin1');
  else if ('onoff' in value) { b = Buffer.alloc(8); b.writeInt32LE(value.onoff, 0); b.writeInt32LE(value.linger, 4); }
  else { b = Buffer.alloc(16); b.writeBigInt64LE(BigInt(Math.floor(value.ms / 1000)), 0); b.writeBigInt64LE(BigInt((value.ms % 1000) * 1000), 8); }
  check(libc.setsockopt(fd, level, name, b, b.length), 'setsockopt', `(fd ${fd}, level ${level}, option ${name})`);
}

/** struct sockaddr_in / sockaddr_in6 for loopback or the wildcard address. */
export function sockaddr(family: number, port: number, address: 'loopback' | 'any' | 'v4mapped-loopback'): Buffer {
  if (family === AF_INET) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    if (address !== 'any') b.writeUInt32BE(0x7f000001, 4);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  if (address === 'loopback') b[23] = 1;
  if (address === 'v4mapped-loopback') { b.writeUInt16BE(0xffff, 18); b.writeUInt32BE(0x7f000001, 20); }
  return b;
}

export function bind(fd: number, addr: Buffer): void {
  check(libc.bind(fd, addr, addr.length), 'bind', `(fd ${fd})`);
}

export function listen(fd: number, backlog: number): void {
  check(libc.listen(fd, backlog), 'listen', `(fd ${fd})`);
}

/** Blocking connect: to a loopback listener it completes at once. */
export function connect(fd: number, addr: Buffer): void {
  check(libc.connect(fd, addr, addr.length), 'connect', `(fd ${fd})`);
}

export function accept(fd: number): number {
  return check(libc.accept4(fd, null, null, SOCK_CLOEXEC), 'accept4', `(fd ${fd})`);
}

/** The local port the kernel bound. */
export function localPort(fd: number): number {
  const b = Buffer.alloc(28), len = Buffer.alloc(4);
  len.writeUInt32LE(28);
  check(libc.getsockname(fd, b, len), 'getsockname', `(fd ${fd})`);
  return b.readUInt16BE(2);
}
