// An independent oracle for tests: run a JVM under strace and rebuild, from
// the syscalls alone, what was done to each socket (family, type, every
// setsockopt in order, bind, listen backlog, connect, accept) and which local
// port it ended up on, so a test can join it with the tool's report.
//
// The parser reads strace's default decoding (strace 5/6), e.g.
//   2323  setsockopt(7, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
//   2323  setsockopt(9, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=7}, 8) = 0
//   2323  accept(4, <unfinished ...>
//   2330  <... accept resumed>{sa_family=AF_INET6, sin6_port=htons(41130), ...}, [28]) = 6
// It assumes every traced task shares one fd table, which holds for a JVM's
// threads (a JVM that forks children would need strace -ff and one parse per file).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Linger } from '../../src/model/types.js';
import { startJvm, WORK, type Jvm, type StartOptions } from './jvm.js';

/** Syscalls traced. close/dup2/dup3 are needed to see a socket's fd number reused; getsockname gives ephemeral ports. */
export const TRACED = ['socket', 'setsockopt', 'listen', 'bind', 'connect', 'accept', 'accept4', 'getsockname', 'close', 'dup2', 'dup3'];

export interface StraceEndpoint {
  /** As strace prints it: "127.0.0.1", "::1", "::ffff:127.0.0.1". */
  address: string;
  port: number;
}

export type StraceValue = number | string | Linger | { sec: number; usec: number };

export interface StraceSetsockopt {
  /** Level normalised to the names knetstat-java uses: SOL_SOCKET, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP. */
  level: string;
  /** Option name as strace (and the kernel headers) spell it; strace's raw text for names it does not know. */
  name: string;
  /** [1] -> 1, {l_onoff, l_linger} -> Linger, "cubic" -> "cubic"; anything else: strace's text. */
  value: StraceValue;
  /** The call's return value: 0, or -1 with errno. */
  result: number;
  errno?: string;
  /** strace's text of the call, for messages. */
  raw: string;
  /** Thread that made the call and its line in the trace (orders it against other calls, e.g. markers). */
  tid?: number;
  line?: number;
}

export interface StraceSocket {
  fd: number;
  /** Other fds that refer to the same socket (dup2/dup3 of it). */
  aliases: number[];
  /** AF_INET, AF_INET6, AF_UNIX ... */
  family: string;
  /** SOCK_STREAM, SOCK_DGRAM ... (flags removed). */
  type: string;
  /** SOCK_CLOEXEC, SOCK_NONBLOCK given to socket()/accept4(). */
  flags: string[];
  /** IPPROTO_IP, IPPROTO_TCP ... ("0" for AF_UNIX). */
  protocol: string;
  origin: 'socket' | 'accept';
  /** For accepted sockets: the listening socket's index in the parse result. */
  listener?: number;
  /** Thread (or process) that created it, and the trace line. */
  tid: number;
  line: number;
  setsockopts: StraceSetsockopt[];
  bind?: StraceEndpoint;
  /** listen()'s backlog argument. */
  backlog?: number;
  /** Address given to connect() (also for UDP). */
  connect?: StraceEndpoint;
  /** Local end: getsockname, else a bind to a fixed port, else the listener's (accepted sockets). */
  local?: StraceEndpoint;
  /** Remote end: connect's address or accept's peer. */
  remote?: StraceEndpoint;
  /** Set when the local port was deduced by pairing a client with the socket its server accepted. */
  localInferred?: boolean;
  /** closed: close(2) seen; replaced: dup2/dup3 over it, or its fd number came back from socket()/accept() unseen. */
  closed?: 'closed' | 'replaced';
}

const LEVELS: Record<string, string> = {
  SOL_IP: 'IPPROTO_IP', SOL_IPV6: 'IPPROTO_IPV6', SOL_TCP: 'IPPROTO_TCP', SOL_UDP: 'IPPROTO_UDP',
  IPPROTO_IP: 'IPPROTO_IP', IPPROTO_IPV6: 'IPPROTO_IPV6', IPPROTO_TCP: 'IPPROTO_TCP', IPPROTO_UDP: 'IPPROTO_UDP',
  SOL_SOCKET: 'SOL_SOCKET',
};

/** Splits an argument list at top-level commas (outside {}, [], () and "strings"). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0, inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{' || c === '[' || c === '(') depth++;
    else if (c === '}' || c === ']' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = s.slice(start).trim();
  if (last || out.length) out.push(last);
  return out;
}

/** {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")} and the AF_INET6 form; undefined for others. */
export function parseSockaddr(s: string): StraceEndpoint | undefined {
  const port = /sin6?_port=htons\((\d+)\)/.exec(s);
  if (!port) return undefined;
  const v4 = /sin_addr=inet_addr\("([^"]*)"\)/.exec(s);
  const v6 = /inet_pton\(AF_INET6,\s*"([^"]*)"/.exec(s);
  const address = v4?.[1] ?? v6?.[1];
  return address === undefined ? undefined : { address, port: Number(port[1]) };
}

/** Options whose value is text even when short. */
const STRING_OPTIONS = new Set(['TCP_CONGESTION', 'SO_BINDTODEVICE', 'TCP_ULP']);

/** Bytes of a C string as strace prints it: \3, \377, \x1f, \n, \\ ... */
export function decodeCString(body: string): number[] {
  const out: number[] = [];
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, e: 27 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') { out.push(c.charCodeAt(0) & 0xff); continue; }
    const rest = body.slice(i + 1);
    let m: RegExpExecArray | null;
    if ((m = /^[0-7]{1,3}/.exec(rest))) { out.push(parseInt(m[0], 8) & 0xff); i += m[0].length; }
    else if ((m = /^x[0-9a-fA-F]{1,2}/.exec(rest))) { out.push(parseInt(m[0].slice(1), 16)); i += m[0].length; }
    else if (rest[0] !== undefined) { out.push(simple[rest[0]] ?? rest.charCodeAt(0)); i++; }
  }
  return out;
}

/**
 * Decodes setsockopt's value argument. optlen and name, when given, decide
 * how strace's string form is read: a short value of an int option (the JDK
 * sets IP_MULTICAST_TTL and IP_MULTICAST_LOOP as one byte: "\3", 1) is a
 * little-endian number; TCP_CONGESTION and the like stay text.
 */
export function parseValue(s: string, optlen?: number, name?: string): StraceValue {
  let m = /^\[(-?\d+)\]$/.exec(s);
  if (m) return Number(m[1]);
  m = /^\{l_onoff=(-?\d+), l_linger=(-?\d+)\}$/.exec(s);
  if (m) return { enabled: Number(m[1]) !== 0, seconds: Number(m[2]) };
  m = /^\{tv_sec=(-?\d+), tv_usec=(-?\d+)\}$/.exec(s);
  if (m) return { sec: Number(m[1]), usec: Number(m[2]) };
  m = /^"((?:[^"\\]|\\.)*)"(\.\.\.)?$/.exec(s);
  if (m) {
    const bytes = decodeCString(m[1]!);
    if (!m[2] && optlen !== undefined && optlen >= 1 && optlen <= 4 && bytes.length === optlen && !(name && STRING_OPTIONS.has(name))) {
      return bytes.reduceRight((acc, b) => acc * 256 + b, 0);
    }
    let end = bytes.length;
    while (end > 0 && bytes[end - 1] === 0) end--;
    return String.fromCharCode(...bytes.slice(0, end));
  }
  if (/^-?\d+$/.test(s)) return Number(s);
  return s;
}

interface Call {
  tid: number;
  name: string;
  args: string[];
  ret: number;
  errno?: string;
  raw: string;
  line: number;
}

const LINE = /^(?:(?:\[pid\s+)?(\d+)\]?\s+)?(?:\d+(?:[:.]\d+)*\s+)?(.*)$/;

/** Turns strace's text into complete calls, joining "<unfinished ...>" with "<... resumed>". */
export function parseCalls(text: string): Call[] {
  const calls: Call[] = [];
  const pending = new Map<number, { name: string; head: string }>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = LINE.exec(lines[i]!.trimEnd());
    if (!m || !m[2]) continue;
    const tid = m[1] ? Number(m[1]) : 0;
    let body = m[2];
    if (body.startsWith('+++') || body.startsWith('---')) continue;
    const unfinished = /^(\w+)\((.*?)\s*<unfinished \.\.\.>$/.exec(body);
    if (unfinished) {
      pending.set(tid, { name: unfinished[1]!, head: unfinished[2]! });
      continue;
    }
    const resumed = /^<\.\.\. (\w+) resumed>\s?(.*)$/.exec(body);
    if (resumed) {
      const p = pending.get(tid);
      pending.delete(tid);
      if (!p || p.name !== resumed[1]) continue; // started before the trace did
      const tail = resumed[2]!;
      const head = p.head;
      // The head keeps its trailing comma ("accept(4, <unfinished ...>"); the tail is the rest of the line.
      body = `${p.name}(${head}${head.endsWith(',') ? ' ' : ''}${tail}`;
    }
    const call = /^(\w+)\((.*)\)\s+=\s+(-?\d+|\?|0x[0-9a-f]+)(?:\s+(E[A-Z0-9]+)\b.*)?$/.exec(body);
    if (!call) continue;
    const ret = call[3] === '?' ? NaN : Number(call[3]);
    calls.push({ tid, name: call[1]!, args: splitArgs(call[2]!), ret, errno: call[4], raw: body, line: i + 1 });
  }
  return calls;
}

function splitType(s: string): { type: string; flags: string[] } {
  const parts = s.split('|').map((p) => p.trim());
  return { type: parts.find((p) => !/^SOCK_(CLOEXEC|NONBLOCK)$/.test(p)) ?? parts[0]!, flags: parts.filter((p) => /^SOCK_(CLOEXEC|NONBLOCK)$/.test(p)) };
}

/** Rebuilds per-socket histories from strace's text. Sockets are in creation order, closed ones included. */
export function parseStraceText(text: string): StraceSocket[] {
  const sockets: StraceSocket[] = [];
  const open = new Map<number, number>(); // fd -> index in sockets
  const connectLine = new Map<StraceSocket, number>();
  const take = (fd: number, s: StraceSocket) => {
    const prev = open.get(fd);
    if (prev !== undefined) release(fd, 'replaced');
    open.set(fd, sockets.push(s) - 1);
  };
  const release = (fd: number, how: 'closed' | 'replaced') => {
    const idx = open.get(fd);
    if (idx === undefined) return;
    open.delete(fd);
    const s = sockets[idx]!;
    // A socket lives while any of its fds is open.
    const fds = [s.fd, ...s.aliases];
    if (!fds.some((f) => f !== fd && open.get(f) === idx)) s.closed = how;
  };
  const get = (arg: string | undefined): StraceSocket | undefined => {
    const idx = open.get(Number(arg));
    return idx === undefined ? undefined : sockets[idx];
  };

  for (const c of parseCalls(text)) {
    const ok = c.ret >= 0;
    switch (c.name) {
      case 'socket': {
        if (!ok) break;
        const { type, flags } = splitType(c.args[1] ?? '');
        take(c.ret, { fd: c.ret, aliases: [], family: c.args[0] ?? '?', type, flags, protocol: c.args[2] ?? '?', origin: 'socket', tid: c.tid, line: c.line, setsockopts: [] });
        break;
      }
      case 'accept':
      case 'accept4': {
        if (!ok) break;
        const lfd = Number(c.args[0]);
        const li = open.get(lfd);
        const l = li === undefined ? undefined : sockets[li];
        const flags = c.name === 'accept4' ? (c.args[3] ?? '').split('|').map((f) => f.trim()).filter((f) => f.startsWith('SOCK_')) : [];
        const peer = c.args[1] ? parseSockaddr(c.args[1]) : undefined;
        take(c.ret, {
          fd: c.ret, aliases: [], family: l?.family ?? '?', type: l?.type ?? 'SOCK_STREAM', flags, protocol: l?.protocol ?? '?',
          origin: 'accept', listener: li, tid: c.tid, line: c.line, setsockopts: [],
          remote: peer, local: l?.local ? { ...l.local } : undefined,
        });
        break;
      }
      case 'setsockopt': {
        const s = get(c.args[0]);
        if (!s) break;
        const level = LEVELS[c.args[1] ?? ''] ?? c.args[1] ?? '?';
        s.setsockopts.push({ level, name: c.args[2] ?? '?', value: parseValue(c.args[3] ?? '', Number(c.args[4]), c.args[2]), result: c.ret, errno: c.errno, raw: c.raw, tid: c.tid, line: c.line });
        break;
      }
      case 'bind': {
        const s = get(c.args[0]);
        const ep = c.args[1] ? parseSockaddr(c.args[1]) : undefined;
        if (!s || !ok || !ep) break;
        s.bind = ep;
        if (ep.port !== 0 || !s.local) s.local = { ...ep };
        break;
      }
      case 'listen': {
        const s = get(c.args[0]);
        if (s && ok) s.backlog = Number(c.args[1]);
        break;
      }
      case 'connect': {
        const s = get(c.args[0]);
        const ep = c.args[1] ? parseSockaddr(c.args[1]) : undefined;
        if (!s || !ep || !(ok || c.errno === 'EINPROGRESS')) break;
        s.connect = ep;
        s.remote = { ...ep };
        connectLine.set(s, c.line);
        break;
      }
      case 'getsockname': {
        const s = get(c.args[0]);
        const ep = c.args[1] ? parseSockaddr(c.args[1]) : undefined;
        if (s && ok && ep) {
          s.local = ep;
          delete s.localInferred;
        }
        break;
      }
      case 'close': {
        if (c.errno !== 'EBADF') release(Number(c.args[0]), 'closed');
        break;
      }
      case 'dup2':
      case 'dup3': {
        if (!ok) break;
        const nfd = c.ret;
        if (Number(c.args[0]) === nfd) break; // dup2(fd, fd) is a no-op
        const src = open.get(Number(c.args[0]));
        release(nfd, 'replaced');
        if (src !== undefined) {
          open.set(nfd, src);
          sockets[src]!.aliases.push(nfd);
        }
        break;
      }
    }
  }
  inferClientPorts(sockets, connectLine);
  return sockets;
}

/**
 * Without getsockname a connecting socket's local port is unknown, but the
 * socket its server accepted (in the same trace) has it as its peer port.
 * A client and an accepted socket are paired only when each is the other's
 * sole candidate: same port, and the accept returned after the connect began.
 */
function inferClientPorts(sockets: StraceSocket[], connectLine: Map<StraceSocket, number>): void {
  const isClient = (s: StraceSocket) => s.origin === 'socket' && s.type === 'SOCK_STREAM' && connectLine.has(s);
  const isAccepted = (s: StraceSocket) => s.origin === 'accept' && !!s.remote && s.local?.port !== undefined;
  const fits = (c: StraceSocket, a: StraceSocket) => a.local!.port === c.connect!.port && a.line > connectLine.get(c)!;
  for (const c of sockets) {
    if (!isClient(c) || c.local?.port) continue;
    const as = sockets.filter((a) => isAccepted(a) && fits(c, a));
    if (as.length !== 1) continue;
    const a = as[0]!;
    if (sockets.filter((o) => isClient(o) && fits(o, a)).length !== 1) continue;
    c.local = { address: a.remote!.address, port: a.remote!.port };
    c.localInferred = true;
  }
}

export function parseStrace(file: string): StraceSocket[] {
  return parseStraceText(readFileSync(file, 'utf8'));
}

/** Last value set for each option name (successful calls only), in call order. */
export function optionsOf(s: StraceSocket): Record<string, StraceValue> {
  const out: Record<string, StraceValue> = {};
  for (const o of s.setsockopts) if (o.result === 0) out[o.name] = o.value;
  return out;
}

/** Internet sockets only, optionally those still open. */
export function inetSockets(all: StraceSocket[], { openOnly = false } = {}): StraceSocket[] {
  return all.filter((s) => (s.family === 'AF_INET' || s.family === 'AF_INET6') && (!openOnly || !s.closed));
}

/** The open internet socket with this local port (and, for clients, remote port). */
export function byPort(all: StraceSocket[], localPort: number, remotePort?: number): StraceSocket | undefined {
  const hits = inetSockets(all, { openOnly: true }).filter((s) => s.local?.port === localPort && (remotePort === undefined || s.remote?.port === remotePort));
  if (remotePort === undefined) {
    // A listener and the sockets it accepted share the local port: prefer the one without a peer.
    return hits.find((s) => !s.remote) ?? hits[0];
  }
  return hits[0];
}

export interface StracedJvm extends Jvm {
  traceFile: string;
  /** Parses the trace as written so far (strace writes it line by line). */
  parse(): StraceSocket[];
}

let seq = 0;

/**
 * Starts mainClass under `strace -f -qq -e trace=... -o <file>`. The JVM's pid
 * is the one the sample prints (strace's own pid is proc.pid). stop() closes
 * the JVM's stdin, then kills the JVM itself, so no JVM outlives a detached strace.
 */
export async function startJvmUnderStrace(mainClass: string, args: string[] = [], opts: StartOptions & { traceFile?: string } = {}): Promise<StracedJvm> {
  const dir = join(WORK, 'strace');
  mkdirSync(dir, { recursive: true });
  const traceFile = opts.traceFile ?? join(dir, `${mainClass.replace(/[^\w.-]/g, '_')}-${process.pid}-${++seq}.txt`);
  const wrapper = ['strace', '-f', '-qq', '-e', `trace=${TRACED.join(',')}`, '-o', traceFile, ...(opts.wrapper ?? [])];
  const jvm = await startJvm(mainClass, args, { ...opts, wrapper });
  if (typeof jvm.ready?.pid !== 'number') {
    await jvm.stop();
    throw new Error(`${mainClass} printed no pid in READY: under strace the JVM's pid cannot be known otherwise`);
  }
  const stop = async () => {
    const proc = jvm.proc;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((res) => proc.once('exit', () => res()));
    proc.stdin?.end();
    const t1 = setTimeout(() => { try { process.kill(jvm.pid, 'SIGTERM'); } catch { /* gone */ } }, 2000);
    const t2 = setTimeout(() => {
      try { process.kill(jvm.pid, 'SIGKILL'); } catch { /* gone */ }
      proc.kill('SIGKILL');
    }, 5000);
    await exited;
    clearTimeout(t1);
    clearTimeout(t2);
  };
  return { ...jvm, stop, traceFile, parse: () => (existsSync(traceFile) ? parseStrace(traceFile) : []) };
}

/** True when strace exists and may trace a child here (ptrace can be forbidden in containers). */
export function straceUsable(): boolean {
  try {
    execFileSync('strace', ['-qq', '-e', 'trace=none', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
