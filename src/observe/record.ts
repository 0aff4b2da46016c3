// One JFR recording of socket reads and writes, and nothing else:
//   JFR.start name=knetstat-<random> with only jdk.SocketRead and
//   jdk.SocketWrite enabled (threshold 0 ms: every read; stack traces on;
//   JDK 25's throttle off), disk=true (a busy JVM writes tens of MB/s: the
//   in-memory ring would keep only its last seconds), maxsize, a duration of
//   the window plus a grace period (should the tool die, JFR stops the
//   recording by itself), dumponexit=false, and a destination file with an
//   unguessable name in the JVM's /tmp;
//   JFR.check: exactly those two events with those settings, or we stop;
//   wait; JFR.stop (which writes the destination); read the file as the
//   JVM's user, chunk by chunk, and delete it.
// Settings: JDK 17+ take them on the command line ("settings=none" and
// "+jdk.SocketRead#threshold=0ms"); older JDKs (11-16, 8u262+) read a .jfc
// file we write (as the JVM's user) in its /tmp and delete after the start.
// Recordings are addressed by their numeric id (JDK 25 allows two
// recordings with one name): other recordings are never touched.
// JFR creates its repository (java.io.tmpdir/<date>_<pid>) when a disk
// recording starts and none exists; when it did so for us (its path changed),
// and it is empty after the stop, we remove it (JFR makes a new one, under a
// new name, when it needs one again).
import { randomBytes } from 'node:crypto';
import { ObserveError, UsageError } from '../errors.js';
import type { AttachSession } from './attach.js';
import { HelperRefusal } from './asuser.js';
import { ChunkAssembler } from './jfr/stream.js';
import { SOCKET_EVENTS } from './jfr/socket.js';
import { checkedEvents, firstLine, parseProperties, parseVmVersion, startedRecording, noFlightRecorder, type Reply } from './protocol.js';

export interface RecordOptions {
  durationMs: number;
  /** Aborting stops the recording and removes its files, then rejects with ObserveError kind 'interrupted'. */
  signal?: AbortSignal;
  /** JFR's maxsize for the recording, and the most we read back (default 256 MiB). */
  maxBytes?: number;
  /** 'overrides' (JDK 17+) or 'jfc' (a settings file); 'auto' picks by the JVM's version. */
  settings?: 'auto' | 'overrides' | 'jfc';
  /** Each complete chunk of the recording, in order. */
  onChunk: (chunk: Buffer) => void;
  /** Called once the recording runs with the settings checked (progress; tests start traffic here). */
  onStarted?: (recording: { id: number; name: string }) => void;
}

export interface RecordingInfo {
  id: number;
  name: string;
  jvm: { version?: string; feature?: number; vm?: string };
  settings: 'overrides' | 'jfc';
  /** What JFR.check confirmed the recording enables: event -> settings. */
  enabled: Record<string, Record<string, string>>;
  startedAt: string;
  stoppedAt: string;
  /** Measured between the start and the stop answers. */
  seconds: number;
  /** 'stop': ours; 'duration': JFR stopped it itself (we were late). */
  endedBy: 'stop' | 'duration';
  bytes: number;
  chunks: number;
  /** JFR's repository: created by this recording, and removed after it. */
  repository: { path?: string; createdByUs: boolean; removed: boolean };
}

const plain = (s: string) => s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');

function jfcFile(): string {
  const ev = (name: string) => `  <event name="${name}">
    <setting name="enabled">true</setting>
    <setting name="stackTrace">true</setting>
    <setting name="threshold">0 ms</setting>
  </event>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<configuration version="2.0" label="knetstat-java" description="Every socket read and write, with stack traces (knetstat-java --observe)" provider="knetstat-java">
${SOCKET_EVENTS.map(ev).join('\n')}
</configuration>
`;
}

/** The setting JFR.check must show for each of our events (a setting it does not list, e.g. throttle before JDK 25, is fine). */
const EXPECTED: Record<string, string> = { enabled: 'true', threshold: '0 ms', stackTrace: 'true', throttle: 'off' };

/** Waits ms; rejects early when aborted (interrupted) or when the JVM exits. */
function windowWait(ms: number, session: AttachSession, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = (e?: Error) => {
      clearTimeout(t);
      clearInterval(poll);
      signal?.removeEventListener('abort', onAbort);
      if (e) reject(e); else resolve();
    };
    const onAbort = () => stop(new ObserveError('observation interrupted', { kind: 'interrupted' }));
    const t = setTimeout(() => stop(), ms);
    const poll = setInterval(() => { if (!session.alive()) stop(new ObserveError(`process ${session.target.pid} exited during the observation`, { kind: 'exited' })); }, 250);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function recordSocketEvents(session: AttachSession, opts: RecordOptions): Promise<RecordingInfo> {
  const seconds = Math.max(1, Math.round(opts.durationMs / 1000));
  const maxBytes = opts.maxBytes ?? 256 << 20;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 << 20) throw new UsageError(`maxBytes ${maxBytes}: at least 1 MiB`);
  const rand = randomBytes(16).toString('hex');
  const name = `knetstat-${rand.slice(0, 16)}`;
  const dumpName = `knetstat-${rand}.jfr`;
  const jfcName = `knetstat-${randomBytes(16).toString('hex')}.jfc`;
  const files = session.files;

  const version = parseVmVersion((await session.jcmd('VM.version')).text);
  const props = parseProperties((await session.execute('properties')).text);
  const repoBefore = props.get('jdk.jfr.repository') || undefined;
  const mode = opts.settings && opts.settings !== 'auto' ? opts.settings : (version.feature ?? 0) >= 17 ? 'overrides' : 'jfc';

  let id: number | undefined;
  let jfcWritten = false;
  let dumpMayExist = false;
  const cleanup = async () => {
    // Best effort, each step on its own: the JVM may be gone, or slow.
    if (id !== undefined) {
      const stop = await session.jcmd(`JFR.stop name=${id}`, 30_000).catch(() => undefined);
      if (stop && /^Stopped recording/m.test(stop.text)) dumpMayExist = true;
      id = undefined;
    }
    if (jfcWritten) await files.call('remove', { name: jfcName }).catch(() => undefined);
    if (dumpMayExist) await files.call('remove', { name: dumpName }).catch(() => undefined);
    await removeRepository().catch(() => undefined);
  };
  const repository = { createdByUs: false, removed: false } as RecordingInfo['repository'];
  const removeRepository = async () => {
    if (repository.removed) return;
    const now = parseProperties((await session.execute('properties')).text).get('jdk.jfr.repository');
    // JFR keeps using an existing repository, and makes a new one (a new name) when there is none or it
    // was removed (by an earlier observation of ours, say): a path other than before is this recording's.
    if (!now || now === repoBefore) return;
    repository.path = now;
    repository.createdByUs = true;
    // Only when no recording (anyone's) is left: JFR still writes there otherwise.
    const check = await session.jcmd('JFR.check');
    if (!/No available recordings/.test(check.text)) return;
    const r = await files.call('rmdirRepository', { path: now });
    repository.removed = r.removed === true;
  };

  try {
    let settings: string;
    if (mode === 'jfc') {
      await files.call('writeFile', { name: jfcName, content: jfcFile() });
      jfcWritten = true;
      settings = `settings=/tmp/${jfcName}`;
    } else {
      settings = ['settings=none', ...SOCKET_EVENTS.flatMap((e) => [`+${e}#enabled=true`, `+${e}#threshold=0ms`, `+${e}#stackTrace=true`, `+${e}#throttle=off`])].join(' ');
    }
    // Interrupted while attaching: no recording is started at all.
    if (opts.signal?.aborted) throw new ObserveError('observation interrupted', { kind: 'interrupted' });
    const grace = Math.max(30, seconds);
    const startLine = `JFR.start name=${name} ${settings} disk=true maxsize=${maxBytes} duration=${seconds + grace}s filename=/tmp/${dumpName} dumponexit=false`;
    const started = await session.jcmd(startLine, 30_000);
    const startedAt = new Date();
    id = startedRecording(started.text);
    if (id === undefined) {
      if (noFlightRecorder(started)) {
        throw new ObserveError(`process ${session.target.pid} has no Flight Recorder (${version.version ? `JDK ${version.version}` : 'unknown JDK'}: a runtime without the jdk.jfr module, or JDK 8 before 8u262)`, { kind: 'no-jfr', remedy: 'observe a JVM that includes jdk.jfr' });
      }
      throw new ObserveError(`JFR.start failed in process ${session.target.pid}: ${plain(firstLine(started.text)) || `code ${started.code}`}`, { kind: 'jfr' });
    }
    dumpMayExist = true;
    if (jfcWritten) {
      await files.call('remove', { name: jfcName });
      jfcWritten = false;
    }
    // Exactly our two events, with our settings; anything else and we stop.
    const check = await session.jcmd(`JFR.check name=${id} verbose=true`);
    const enabled = checkedEvents(check.text);
    const bad = [...enabled.keys()].filter((e) => !(SOCKET_EVENTS as readonly string[]).includes(e));
    for (const e of SOCKET_EVENTS) {
      const s = enabled.get(e);
      if (!s) bad.push(`${e} missing`);
      else for (const [k, v] of s) if (EXPECTED[k] !== undefined && EXPECTED[k] !== v) bad.push(`${e}#${k}=${v}`);
    }
    if (bad.length) throw new ObserveError(`the recording in process ${session.target.pid} is not what was asked for (${plain(bad.slice(0, 5).join(', '))}): stopped`, { kind: 'jfr' });

    opts.onStarted?.({ id, name });
    await windowWait(seconds * 1000, session, opts.signal);

    const stop = await session.jcmd(`JFR.stop name=${id}`, 120_000);
    const stoppedAt = new Date();
    let endedBy: RecordingInfo['endedBy'] = 'stop';
    if (!/^Stopped recording/m.test(stop.text)) {
      // JFR stops a recording at its duration: then it wrote the file already.
      if (!/Could not find|No recording/i.test(stop.text)) throw new ObserveError(`JFR.stop failed in process ${session.target.pid}: ${plain(firstLine(stop.text))}`, { kind: 'jfr' });
      endedBy = 'duration';
    }
    id = undefined;
    const asm = new ChunkAssembler();
    let bytes = 0;
    let broken: unknown;
    try {
      // A malformed recording is still read to its end, so that the helper deletes it.
      await files.call('readFile', { name: dumpName, maxBytes: maxBytes + (64 << 20) }, 60_000, (d) => {
        bytes += d.length;
        if (broken === undefined) {
          try { asm.push(d, opts.onChunk); } catch (e) { broken = e; }
        }
      });
    } catch (e) {
      if (e instanceof HelperRefusal && e.code === 'absent') throw new ObserveError(`process ${session.target.pid} wrote no recording (JFR.stop: ${plain(firstLine(stop.text))})`, { kind: 'jfr' });
      throw e;
    }
    dumpMayExist = false;
    if (broken !== undefined) throw broken;
    asm.end();
    await removeRepository();
    const enabledObj: RecordingInfo['enabled'] = {};
    for (const [e, s] of enabled) enabledObj[e] = Object.fromEntries(s);
    return {
      id: startedRecording(started.text)!, name, jvm: version, settings: mode, enabled: enabledObj,
      startedAt: startedAt.toISOString(), stoppedAt: stoppedAt.toISOString(),
      seconds: Math.round((stoppedAt.getTime() - startedAt.getTime()) / 100) / 10,
      endedBy, bytes, chunks: asm.chunks, repository,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** The text of a reply, safe to show in one line (for callers' messages). */
export function replyLine(r: Reply): string {
  return plain(firstLine(r.text));
}
