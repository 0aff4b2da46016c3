// In-process phase timing for bench/run.js: node bench/phases.js <pid>
// Prints one JSON line: ms and heap after capture, analyze and render (JSON
// rendered and discarded, streamed as the CLI does), live heap, and koffi's cost per getsockopt call.
import { capture } from '../dist/capture.js';
import { analyze, analyzeSockets, analyzeStream } from '../dist/java/analyze.js';
import { renderJson } from '../dist/render/json.js';
import * as libc from '../dist/linux/libc.js';

const pid = Number(process.argv[2]);
/** Live heap: after a full GC when run with --expose-gc (bench/run.js does). */
const live = () => { globalThis.gc?.(); return Math.round(process.memoryUsage().heapUsed / 1e6); };
const out = {};
// The pidfd source alone first (also warms the code up), then the default: pidfd plus sock_diag's enrichment.
let t = performance.now();
let alone = await capture(pid, { source: 'pidfd' });
out.capturePidfdMs = Math.round(performance.now() - t);
out.pidfdSockets = alone.sockets.length;
alone = undefined; // not part of the live heap measured below
t = performance.now();
const c = await capture(pid, {});
out.captureMs = Math.round(performance.now() - t);
out.sockets = c.sockets.length;
out.liveHeapAfterCaptureMb = live();
// Analysis alone, streamed as the CLI does for JSON (each ReportSocket dropped at once).
t = performance.now();
let n = 0;
for (const s of analyzeSockets(c)) n += s.verdicts ? 1 : 0;
out.analyzeMs = Math.round(performance.now() - t);
// Analysis + JSON, streamed: what the CLI does after the capture (output discarded).
t = performance.now();
let bytes = 0;
for (const chunk of renderJson(analyzeStream(c))) bytes += chunk.length;
out.analyzeAndRenderMs = Math.round(performance.now() - t);
out.renderMs = out.analyzeAndRenderMs - out.analyzeMs;
out.jsonBytes = bytes;
// The whole report held at once (what --format text does): its live heap.
const whole = analyze(c);
out.liveHeapWholeReportMb = live();
out.wholeReportSockets = whole.sockets.length;

// koffi: ns per getsockopt(SO_RCVBUF) on a socket of our own, and per close(-1) (the bare FFI + syscall floor).
const fd = libc.socket(2, 1 | 0o2000000, 0);
const val = Buffer.alloc(16), len = Buffer.alloc(4);
const N = 200_000;
for (let i = 0; i < 10_000; i++) { len.writeUInt32LE(4, 0); libc.getsockopt(fd, 1, 8, val, len); }
t = performance.now();
for (let i = 0; i < N; i++) { len.writeUInt32LE(4, 0); libc.getsockopt(fd, 1, 8, val, len); }
out.nsPerGetsockopt = Math.round(((performance.now() - t) * 1e6) / N);
t = performance.now();
for (let i = 0; i < N; i++) libc.close(-1);
out.nsPerCloseEbadf = Math.round(((performance.now() - t) * 1e6) / N);
libc.close(fd);
console.log(JSON.stringify(out));
