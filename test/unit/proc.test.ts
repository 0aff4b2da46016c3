// linux/proc.ts on this test's own process (no other process, no root needed)
// and on hand-written /proc texts: the parsers, the fd scan, fdinfo, namespaces.
import { closeSync, openSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { constants } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetError } from '../../src/errors.js';
import { hasExited, startTime } from '../../src/linux/lifetime.js';
import {
  catchesSignal, cmdline, comm, environ, fdFlags, fdinfo, maps, O_NONBLOCK, namespaceOf, nsInode, parseCmdline, parseStat, parseStatState, parseStatus, processState, readProcFile, realUid,
  socketFds, socketInode, status, userName,
} from '../../src/linux/proc.js';

describe('parsers', () => {
  it('the state letter after a comm holding spaces and parentheses', () => {
    expect(parseStatState('42 (java) S 1 42 42 0 -1')).toBe('S');
    expect(parseStatState('42 (my (odd) name) Z 1 42')).toBe('Z');
  });
  it('stat: state, flags and start time after a comm holding spaces and parentheses', () => {
    const f = ['S', '1', '42', '42', '0', '-1', '4194368', ...Array(12).fill('0'), '987654'];
    expect(parseStat(`42 (my (odd) name) ${f.join(' ')} 0 0`)).toEqual({ state: 'S', flags: 4194368, startTime: 987654 });
    expect(parseStat('42 (java)')).toBeUndefined();
  });
  it('status: state, ppid, the four uids and gids, groups, NSpid, SigCgt, Umask, CapEff', () => {
    const s = parseStatus('Name:\tjava\nUmask:\t0027\nState:\tS (sleeping)\nPPid:\t7\nUid:\t1000\t1001\t1002\t1003\nGid:\t50\t51\t52\t53\nGroups:\t4 24 27 \nNSpid:\t4242\t1\nSigCgt:\t0000000000004a02\nCapEff:\t000000c000200000\n');
    expect(s).toEqual({ state: 'S', ppid: 7, uids: [1000, 1001, 1002, 1003], gids: [50, 51, 52, 53], groups: [4, 24, 27], nspid: [4242, 1], sigCgt: 0x4a02n, umask: 0o027, capEff: 0xc000200000n });
    expect(realUid(s)).toBe(1000);
    // An empty Groups: (a process with none) is empty, not the next line's numbers.
    expect(parseStatus('Name:\tx\nGroups:\t\nNStgid:\t28523\n')).toEqual({ state: undefined, uids: [], gids: [], groups: [], nspid: [] });
  });
  it('cmdline: NUL-separated, the trailing NUL dropped, empty arguments kept', () => {
    expect(parseCmdline(Buffer.from('java\0-cp\0\0Main\0'))).toEqual(['java', '-cp', '', 'Main']);
    expect(parseCmdline(Buffer.from('a\0b'))).toEqual(['a', 'b']);
    expect(parseCmdline(Buffer.alloc(0))).toEqual([]);
  });
  it('cmdline: each argument UTF-8 where it is valid, Latin-1 where not (one bad argument spoils no other)', () => {
    const argv = Buffer.concat([Buffer.from('-Dname=é€😀\0', 'utf8'), Buffer.from([0x2d, 0xe9, 0x00]), Buffer.from('ok\0')]);
    expect(parseCmdline(argv)).toEqual(['-Dname=é€😀', '-é', 'ok']);
  });
  it('socket links', () => {
    expect(socketInode('socket:[12345]')).toBe(12345);
    expect(socketInode('pipe:[12345]')).toBeUndefined();
    expect(socketInode('/dev/null')).toBeUndefined();
  });
});

describe('this process', () => {
  let server: Server;
  beforeAll(async () => {
    server = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
  });
  afterAll(() => { server.close(); });
  const fd = () => (server as unknown as { _handle: { fd: number } })._handle.fd;

  it('reads stat, status, comm, cmdline, environ and maps', () => {
    expect(processState(process.pid)).toMatch(/^[RS]$/);
    expect(realUid(status(process.pid))).toBe(process.getuid!());
    expect(status(process.pid).nspid.at(-1)).toBeGreaterThan(0);
    expect(comm(process.pid).length).toBeGreaterThan(0);
    expect(cmdline(process.pid)[0]).toBe(process.execPath);
    expect(environ(process.pid).PATH).toBe(process.env.PATH);
    expect(maps(process.pid)).toMatch(/\/node\b/);
    expect(status('self').umask).toBe(process.umask());
    expect(readProcFile('self', 'comm')).toBe(`${comm(process.pid)}\n`);
  });
  it('finds its listening socket in the fd scan, with fdinfo', () => {
    const fds = socketFds(process.pid);
    expect(fds.has(fd())).toBe(true);
    const info = fdinfo(process.pid, fd());
    expect(Number(info.ino)).toBe(fds.get(fd()));
    expect(info.flags).toMatch(/^[0-7]+$/);
  });
  it("an fd's O_NONBLOCK, only while the fd still holds the listed inode", () => {
    const fds = socketFds(process.pid);
    // Node's sockets are non-blocking; a file opened with openSync is not.
    expect(fdFlags(process.pid, fd(), fds.get(fd()))! & O_NONBLOCK).toBe(O_NONBLOCK);
    const file = openSync(process.execPath, 'r');
    try {
      expect(fdFlags(process.pid, file)! & O_NONBLOCK).toBe(0);
    } finally {
      closeSync(file);
    }
    expect(fdFlags(process.pid, fd(), fds.get(fd())! + 1)).toBeUndefined(); // the fd now holds another file
    expect(fdFlags(process.pid, 1 << 20)).toBeUndefined();
  });
  it('catches the signals it handles, not those it ignores', () => {
    const st = status('self');
    expect(catchesSignal(st, constants.signals.SIGKILL)).toBe(false);
    const onUsr2 = () => {};
    process.on('SIGUSR2', onUsr2);
    try {
      expect(catchesSignal(status('self'), constants.signals.SIGUSR2)).toBe(true);
    } finally {
      process.removeListener('SIGUSR2', onUsr2);
    }
    expect(catchesSignal({ sigCgt: 0b100n, sigIgn: 0b100n }, 3)).toBe(false);
    expect(parseStatus('SigIgn:\t0000000000001000\nSigCgt:\t0000000000004a02\n').sigIgn).toBe(0x1000n);
  });
  it('is in its own namespaces', () => {
    expect(namespaceOf(process.pid, 'net')).toEqual({ inode: nsInode('self', 'net'), own: true });
    expect(nsInode('thread-self', 'net')).toBe(nsInode('self', 'net'));
  });
  it('a process that does not exist is a TargetError', () => {
    expect(() => status(4194304)).toThrow(TargetError);
    expect(() => socketFds(4194304)).toThrow(/no such process: 4194304/);
    expect(namespaceOf(4194304, 'net')).toBeUndefined();
  });
  it('has not exited while it runs; another start time (a reused pid) or no such pid has', () => {
    const started = startTime(process.pid);
    expect(started).toBeGreaterThan(0);
    expect(hasExited(process.pid, started)).toBe(false);
    expect(hasExited(process.pid, started! + 1)).toBe(true);
    expect(hasExited(4194304, undefined)).toBe(true);
  });
  it('names users from /etc/passwd', () => {
    expect(userName(0)).toBe('root');
    expect(userName(2 ** 31 - 7)).toBeUndefined();
  });
});
