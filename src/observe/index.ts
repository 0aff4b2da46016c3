// --observe <duration>: what the JVM itself records about its socket reads
// and writes (JFR), attributed to the sockets of a report. The engine:
//   const run = await observe(pid, { durationMs: 10_000, signal });
//   const { perSocket, observation } = finish(run, sockets);
// observe() attaches (attach.ts), records (record.ts), parses each chunk as
// it arrives (jfr/) into per-peer counts (activity.ts); finish() matches them
// to the report's sockets (attribute.ts) and says what was recorded, for how
// long, and what could not be observed; applyObservation() puts that on a
// Capture taken after the window (cli/capturing.ts).
import { FormatError, ObserveError, UsageError } from '../errors.js';
import { SocketActivity } from './activity.js';
import { AttachSession, type AttachHow, type AttachOptions } from './attach.js';
import type { Observation } from '../model/observed.js';
import type { Capture } from '../model/types.js';
import { attribute, type Observed, type SocketRef } from './attribute.js';
import { Chunk } from './jfr/recording.js';
import { chunkHeader } from './jfr/recording.js';
import { socketEvents, SOCKET_EVENTS } from './jfr/socket.js';
import { recordSocketEvents, type RecordingInfo, type RecordOptions } from './record.js';

export type { SocketRef } from './attribute.js';
export type { Observed, Observation, UnmatchedPeer } from '../model/observed.js';

export interface ObserveOptions extends AttachOptions {
  durationMs: number;
  signal?: AbortSignal;
  maxBytes?: number;
  settings?: RecordOptions['settings'];
  onStarted?: RecordOptions['onStarted'];
  /** Each chunk of the recording as it arrives, before it is parsed (tests, samples/jfr). */
  onRawChunk?: (chunk: Buffer) => void;
}

export interface ObserveRun {
  pid: number;
  attach: AttachHow;
  recording: RecordingInfo;
  activity: SocketActivity;
  /** Chunks whose start is later than the recording's start: JFR dropped the oldest data (maxsize). */
  droppedBeforeNs?: number;
}

/** Attaches, records for opts.durationMs, reads the recording. Throws ObserveError (exit 3) or TargetError. */
export async function observe(pid: number, opts: ObserveOptions): Promise<ObserveRun> {
  if (!(opts.durationMs >= 1000) || opts.durationMs > 3_600_000) {
    throw new UsageError('--observe takes a duration from 1s to 1h (e.g. 10s, 2m)');
  }
  const session = await AttachSession.open(pid, opts);
  const activity = new SocketActivity();
  let firstChunkNs: number | undefined;
  try {
    const recording = await recordSocketEvents(session, {
      durationMs: opts.durationMs,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}),
      ...(opts.settings ? { settings: opts.settings } : {}),
      ...(opts.onStarted ? { onStarted: opts.onStarted } : {}),
      onChunk: (buf) => {
        opts.onRawChunk?.(buf);
        const info = chunkHeader(buf, 0);
        firstChunkNs ??= info.startNanos;
        socketEvents(new Chunk(buf, info, SOCKET_EVENTS), (e) => activity.add(e));
      },
    });
    const startNs = Date.parse(recording.startedAt) * 1e6;
    // A first chunk that begins well after the start: older chunks were dropped (maxsize).
    const dropped = firstChunkNs !== undefined && firstChunkNs > startNs + 2e9 ? firstChunkNs : undefined;
    return { pid, attach: session.how, recording, activity, ...(dropped ? { droppedBeforeNs: dropped } : {}) };
  } catch (e) {
    if (e instanceof FormatError) throw new ObserveError(`the recording of process ${pid} is unreadable: ${e.message}`, { kind: 'jfr', cause: e });
    throw e;
  } finally {
    session.close();
  }
}

function unobservable(run: ObserveRun): string[] {
  const f = run.recording.jvm.feature;
  const out = [
    'a read already waiting when the recording started is not recorded (JFR decides as a read begins): a connection idle through the whole window shows no read',
    'UDP: JFR records no datagram events',
    'connect timeouts: JFR records no connect events',
    'reads made in native code (Netty epoll/io_uring transports, JNI) are no Java socket reads: JFR does not see them',
  ];
  if (f !== undefined && f <= 21) {
    out.push("reads and writes through a SocketChannel's socket adaptor (SocketChannel.socket().getInputStream()) emit no JFR event before JDK 22");
  }
  if (f === undefined || f >= 22) {
    out.push('a read that ends in SocketTimeoutException emits no JFR event (JDK 22+)');
    out.push("JDK 22+ leave the JDK's own I/O frames out of socket stacks: a read reporting timeout 0 is told apart (Socket without timeout, or SocketChannel) only by the socket's blocking mode");
  }
  if (run.droppedBeforeNs) out.push(`JFR dropped the oldest data (the recording reached its maxsize): nothing before ${new Date(run.droppedBeforeNs / 1e6).toISOString()} is counted`);
  if (run.activity.truncated) out.push(`${run.activity.truncated} event(s) had stacks JFR truncated at its stack depth: their readers may be misnamed`);
  return out;
}

function effects(run: ObserveRun): string[] {
  const f = run.recording.jvm.feature;
  const out = [
    'JFR is initialized in the JVM if it was not (its recorder threads stay until the JVM exits)',
  ];
  if (run.attach === 'started') out.push('the JVM started its attach listener (the "Attach Listener" thread and /tmp/.java_pid<pid> stay, as after any jcmd)');
  if (f !== undefined && f <= 21) {
    out.push("JFR instrumented the JDK's socket and file stream classes to emit these events (JDK 21 and older; the code stays, the events are off)");
    out.push("while recording, the JDK named each peer by InetAddress.getHostName(): a reverse DNS lookup per peer address (JDK 21 and older)");
  }
  const repo = run.recording.repository;
  if (repo.createdByUs) out.push(repo.removed ? `JFR created its repository ${repo.path} for the recording; removed after it` : `JFR created its repository ${repo.path} for the recording; left in place (not empty, or another recording uses it)`);
  return out;
}

/** Per-socket figures for the report's sockets, and the top-level observation. */
export function finish(run: ObserveRun, sockets: readonly SocketRef[]): { perSocket: Map<string | number, Observed>; observation: Observation } {
  const windowSeconds = Math.max(1, Math.round(run.recording.seconds));
  const a = attribute(run.activity, sockets, windowSeconds);
  const r = run.recording;
  return {
    perSocket: a.sockets,
    observation: {
      source: 'jfr',
      recorded: { events: [...SOCKET_EVENTS], threshold: '0 ms', stackTrace: true },
      window: { seconds: windowSeconds, start: r.startedAt, end: r.stoppedAt, measuredSeconds: r.seconds },
      jvm: { ...(r.jvm.version ? { version: r.jvm.version } : {}), ...(r.jvm.feature !== undefined ? { feature: r.jvm.feature } : {}) },
      attach: run.attach,
      recording: { id: r.id, name: r.name, settingsVia: r.settings, bytes: r.bytes, chunks: r.chunks, endedBy: r.endedBy },
      totals: { reads: run.activity.reads, writes: run.activity.writes, peers: run.activity.peers.size },
      unmatched: a.unmatched,
      unobservable: unobservable(run),
      effects: effects(run),
    },
  };
}

/**
 * Puts an observation into a capture taken after it: "observed" on each socket
 * it explains, "observation" at the top. The sockets' blocking mode (read by
 * the capture) tells a selector's reads from a blocking channel's.
 */
export function applyObservation(cap: Capture, run: ObserveRun): void {
  const refs: SocketRef[] = cap.sockets.map((s) => ({
    key: s.inode, protocol: s.protocol, state: s.state, local: s.local, remote: s.remote,
    ...(s.nonBlocking ? { nonBlocking: s.nonBlocking.value } : {}),
  }));
  const { perSocket, observation } = finish(run, refs);
  for (const s of cap.sockets) {
    const o = perSocket.get(s.inode);
    if (o) s.observed = o;
  }
  cap.observation = observation;
}
