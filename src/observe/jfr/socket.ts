// jdk.SocketRead / jdk.SocketWrite events of a chunk, as flat records: the
// peer (host, address, port), the read's timeout (ms), bytes, end of stream,
// the thread's name and the stack frames (class, method, line). Field
// positions are looked up by name in each chunk's metadata, so a JDK that
// adds or reorders fields still reads; frames are built once per stack
// trace and shared by every event with that stack.
import type { ClassDesc } from './metadata.js';
import type { PoolKey } from './reader.js';
import type { Chunk, Value } from './recording.js';

export const SOCKET_READ = 'jdk.SocketRead';
export const SOCKET_WRITE = 'jdk.SocketWrite';
export const SOCKET_EVENTS = [SOCKET_READ, SOCKET_WRITE] as const;

export interface Frame {
  /** Binary class name with dots: java.net.Socket$SocketInputStream. */
  type: string;
  method: string;
  line: number;
}

export interface SocketIo {
  kind: 'read' | 'write';
  /** ns since the epoch, and ns. */
  startTime: number;
  duration: number;
  thread: string | null;
  host: string | null;
  address: string;
  port: number;
  /** The read's timeout in ms as the JDK reported it (reads only). */
  timeout: number | undefined;
  bytes: number;
  endOfStream: boolean;
  /** Top frame first; the same array for every event with the same stack. */
  frames: readonly Frame[];
  truncated: boolean;
}

const NO_FRAMES: readonly Frame[] = Object.freeze([]);

function index(desc: ClassDesc | undefined, name: string): number {
  return desc ? desc.fields.findIndex((f) => f.name === name) : -1;
}

function typeOf(desc: ClassDesc | undefined, i: number): PoolKey | undefined {
  return desc && i >= 0 ? desc.fields[i]!.typeId : undefined;
}

/** Reads the frames and names a chunk's pools hold, with a memo per key. */
class Stacks {
  private stacks = new Map<PoolKey, { frames: readonly Frame[]; truncated: boolean }>();
  private methods = new Map<PoolKey, { type: string; method: string } | null>();
  private classes = new Map<PoolKey, string>();
  private threads = new Map<PoolKey, string | null>();
  private readonly ix;

  constructor(private readonly chunk: Chunk, private readonly stackType: PoolKey | undefined, private readonly threadType: PoolKey | undefined) {
    const m = chunk.meta.byName;
    const st = stackType !== undefined ? chunk.meta.classes.get(stackType) : undefined;
    const frame = m.get('jdk.types.StackFrame');
    const method = m.get('jdk.types.Method');
    const cls = m.get('java.lang.Class');
    const sym = m.get('jdk.types.Symbol');
    const thread = threadType !== undefined ? chunk.meta.classes.get(threadType) : undefined;
    this.ix = {
      stTruncated: index(st, 'truncated'), stFrames: index(st, 'frames'),
      frMethod: index(frame, 'method'), frLine: index(frame, 'lineNumber'), methodType: typeOf(frame, index(frame, 'method')),
      mType: index(method, 'type'), mName: index(method, 'name'), classType: typeOf(method, index(method, 'type')), mSymType: typeOf(method, index(method, 'name')),
      cName: index(cls, 'name'), cSymType: typeOf(cls, index(cls, 'name')),
      symString: index(sym, 'string'),
      thJavaName: index(thread, 'javaName'), thOsName: index(thread, 'osName'),
    };
  }

  private symbol(typeId: PoolKey | undefined, key: Value): string | null {
    if (typeId === undefined || (typeof key !== 'number' && typeof key !== 'string')) return null;
    const s = this.chunk.constant(typeId, key);
    if (Array.isArray(s)) return this.chunk.str(s[this.ix.symString]);
    return this.chunk.str(s);
  }

  private className(key: Value): string {
    const { classType, cName, cSymType } = this.ix;
    if (classType === undefined || (typeof key !== 'number' && typeof key !== 'string')) return '?';
    let n = this.classes.get(key);
    if (n === undefined) {
      const c = this.chunk.constant(classType, key);
      n = Array.isArray(c) ? (this.symbol(cSymType, c[cName]!) ?? '?').replace(/\//g, '.') : '?';
      this.classes.set(key, n);
    }
    return n;
  }

  private method(key: Value): { type: string; method: string } | null {
    const { methodType, mType, mName, mSymType } = this.ix;
    if (methodType === undefined || (typeof key !== 'number' && typeof key !== 'string')) return null;
    let m = this.methods.get(key);
    if (m === undefined) {
      const v = this.chunk.constant(methodType, key);
      m = Array.isArray(v) ? { type: this.className(v[mType]!), method: this.symbol(mSymType, v[mName]!) ?? '?' } : null;
      this.methods.set(key, m);
    }
    return m;
  }

  stack(key: Value): { frames: readonly Frame[]; truncated: boolean } {
    if (this.stackType === undefined || (typeof key !== 'number' && typeof key !== 'string')) return { frames: NO_FRAMES, truncated: false };
    let s = this.stacks.get(key);
    if (!s) {
      const v = this.chunk.constant(this.stackType, key);
      const frames: Frame[] = [];
      let truncated = false;
      if (Array.isArray(v)) {
        truncated = v[this.ix.stTruncated] === true;
        const raw = v[this.ix.stFrames];
        if (Array.isArray(raw)) {
          for (const f of raw) {
            if (!Array.isArray(f)) continue;
            const m = this.method(f[this.ix.frMethod]!);
            const line = f[this.ix.frLine];
            frames.push({ type: m?.type ?? '?', method: m?.method ?? '?', line: typeof line === 'number' ? line : -1 });
          }
        }
      }
      s = { frames: Object.freeze(frames), truncated };
      this.stacks.set(key, s);
    }
    return s;
  }

  thread(key: Value): string | null {
    if (this.threadType === undefined || (typeof key !== 'number' && typeof key !== 'string')) return null;
    let t = this.threads.get(key);
    if (t === undefined) {
      const v = this.chunk.constant(this.threadType, key);
      t = Array.isArray(v) ? (this.chunk.str(v[this.ix.thJavaName]) ?? this.chunk.str(v[this.ix.thOsName])) : null;
      this.threads.set(key, t);
    }
    return t;
  }
}

/**
 * Calls fn for every socket read and write event of the chunk. The record
 * passed is reused between calls: copy what you keep (frames may be kept).
 */
export function socketEvents(chunk: Chunk, fn: (e: SocketIo) => void): void {
  const read = chunk.meta.byName.get(SOCKET_READ);
  const write = chunk.meta.byName.get(SOCKET_WRITE);
  const layout = (d: ClassDesc | undefined) => ({
    thread: index(d, 'eventThread'), stack: index(d, 'stackTrace'), host: index(d, 'host'), address: index(d, 'address'),
    port: index(d, 'port'), timeout: index(d, 'timeout'), bytes: index(d, d === write ? 'bytesWritten' : 'bytesRead'), eos: index(d, 'endOfStream'),
  });
  const lr = layout(read), lw = layout(write);
  const dr = index(read, 'duration'), dw = index(write, 'duration');
  const stacks = new Stacks(chunk, typeOf(read, lr.stack) ?? typeOf(write, lw.stack), typeOf(read, lr.thread) ?? typeOf(write, lw.thread));
  const e: SocketIo = { kind: 'read', startTime: 0, duration: 0, thread: null, host: null, address: '', port: 0, timeout: undefined, bytes: 0, endOfStream: false, frames: NO_FRAMES, truncated: false };
  const num = (v: Value | undefined): number => (typeof v === 'number' ? v : 0);
  chunk.events((desc, v) => {
    const isRead = desc === read;
    const l = isRead ? lr : lw;
    e.kind = isRead ? 'read' : 'write';
    e.startTime = chunk.epochNanos(num(v[0]));
    const d = isRead ? dr : dw;
    e.duration = d >= 0 ? chunk.nanos(num(v[d])) : 0;
    e.thread = l.thread >= 0 ? stacks.thread(v[l.thread]!) : null;
    e.host = l.host >= 0 ? chunk.str(v[l.host]) : null;
    e.address = (l.address >= 0 ? chunk.str(v[l.address]) : null) ?? '';
    e.port = num(v[l.port]);
    e.timeout = isRead && l.timeout >= 0 ? num(v[l.timeout]) : undefined;
    e.bytes = num(v[l.bytes]);
    e.endOfStream = l.eos >= 0 && v[l.eos] === true;
    const s = l.stack >= 0 ? stacks.stack(v[l.stack]!) : { frames: NO_FRAMES, truncated: false };
    e.frames = s.frames;
    e.truncated = s.truncated;
    fn(e);
  });
}
