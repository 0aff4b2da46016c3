// The JSON report: the contract CI users parse (see README "JSON"). Streamed
// socket by socket so a 50,000-socket report is never held twice in memory.
import type { Report, ReportSocket } from '../model/types.js';

export function socketJson(s: ReportSocket): Record<string, unknown> {
  return {
    protocol: s.protocol, fd: s.fd, inode: s.inode, local: s.local, remote: s.remote, state: s.state,
    recvQ: s.recvQ, sendQ: s.sendQ, diag: s.diag, role: s.role, apis: s.apis,
    options: s.options, java: s.java, unobservable: s.unobservable, verdicts: s.verdicts,
    ...(s.unknown.length ? { unknown: s.unknown } : {}),
    ...(s.hints.length ? { hints: s.hints } : {}),
    ...(s.listener ? { listener: s.listener } : {}),
    ...(s.userLocks ? { userLocks: s.userLocks } : {}),
    ...(s.timer ? { timer: s.timer } : {}),
    ...(s.uid !== undefined ? { uid: s.uid } : {}),
    ...(s.vanished ? { vanished: true } : {}),
    sources: s.sources,
    ...(s.tcpInfo ? { tcpInfo: s.tcpInfo } : {}),
  };
}

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
  for (const s of sockets) {
    // Nested twice, the socket comes out indented 4 deeper: the same text as re-indenting its
    // own stringify with a regex, without a second pass over 6 KB per socket.
    const body = JSON.stringify([[socketJson(s)]], null, 2).slice(10, -6);
    yield `${first ? '' : ','}\n    ${body}`;
    first = false;
  }
  yield `${first ? '' : '\n  '}]\n}\n`;
}

export function renderJsonString(r: Report): string {
  return [...renderJson(r)].join('');
}
