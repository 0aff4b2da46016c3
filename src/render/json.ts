// The JSON report: the contract CI users parse (see README "JSON"). Streamed
// socket by socket so a 50,000-socket report is never held twice in memory.
import type { Report, ReportSocket } from '../model/types.js';

/**
 * A socket as the report prints it. Optional fields are undefined when absent
 * (JSON.stringify leaves them out), so every socket has one shape: no
 * conditional spreads, which V8 builds on a slow path, copy by copy.
 */
export function socketJson(s: ReportSocket): Record<string, unknown> {
  return {
    protocol: s.protocol, fd: s.fd, inode: s.inode, local: s.local, remote: s.remote, state: s.state,
    recvQ: s.recvQ, sendQ: s.sendQ, diag: s.diag, role: s.role, apis: s.apis,
    options: s.options, java: s.java, unobservable: s.unobservable, verdicts: s.verdicts,
    unknown: s.unknown.length ? s.unknown : undefined,
    hints: s.hints.length ? s.hints : undefined,
    listener: s.listener ? s.listener : undefined,
    userLocks: s.userLocks ? s.userLocks : undefined,
    timer: s.timer ? s.timer : undefined,
    shutdown: s.shutdown ? s.shutdown : undefined,
    uid: s.uid,
    vanished: s.vanished ? true : undefined,
    sources: s.sources,
    tcpInfo: s.tcpInfo ? s.tcpInfo : undefined,
  };
}

/**
 * Sockets per JSON.stringify call: one string of ~64 sockets (~420 KB) rather
 * than one per socket, so fewer, larger writes and less per-call overhead,
 * while only a batch of analysed sockets is alive at a time.
 */
const BATCH = 64;

/** sockets: the report's own by default; analyzeSockets(capture) streams them without holding them all. */
export function* renderJson(r: Report, sockets: Iterable<ReportSocket> = r.sockets): Generator<string> {
  const top = {
    pid: r.process.pid, process: r.process, host: r.host, tool: r.tool, capturedAt: r.capturedAt,
    formatVersion: r.formatVersion, sources: r.sources, partial: r.partial, missing: r.missing,
    warnings: r.warnings, vanished: r.vanished, defaults: r.defaults, ...(r.redacted ? { redacted: true } : {}),
  };
  const opening = JSON.stringify(top, null, 2);
  yield `${opening.slice(0, -2)},\n  "sockets": [`;
  let first = true;
  const batch: Record<string, unknown>[] = [];
  const nest = [batch];
  // Nested twice, the sockets come out indented 4 deeper and separated by ",\n    ": the same
  // text as re-indenting each socket's own stringify, without a second pass over 6 KB per socket.
  const flush = function* () {
    const body = JSON.stringify(nest, null, 2);
    batch.length = 0;
    yield first ? '\n    ' : ',\n    ';
    yield body.slice(10, -6);
    first = false;
  };
  for (const s of sockets) {
    batch.push(socketJson(s));
    if (batch.length === BATCH) yield* flush();
  }
  if (batch.length) yield* flush();
  yield `${first ? '' : '\n  '}]\n}\n`;
}

export function renderJsonString(r: Report): string {
  return [...renderJson(r)].join('');
}
