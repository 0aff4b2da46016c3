// Analysis and JSON rendering alone, from a snapshot (no JVM, no capture):
//   node bench/offline.js <snapshot.json> [--reps 5]
// Prints one JSON line: the first (cold) pass and the median of the next
// passes, in µs per socket, for analysis (streamed, as the CLI does for JSON)
// and for analysis + JSON rendering; and the bytes of JSON per socket.
// What `npm run bench` measures in process, for work on src/java and src/render.
import { readSnapshot } from '../dist/snapshot/file.js';
import { analyzeSockets, analyzeStream } from '../dist/java/analyze.js';
import { renderJson } from '../dist/render/json.js';

const file = process.argv[2];
const args = process.argv.slice(3);
const reps = Number(args[args.indexOf('--reps') + 1] || 0) || 5;
const c = readSnapshot(file).capture;
const n = c.sockets.length;

function pass() {
  let t = performance.now();
  let k = 0;
  for (const s of analyzeSockets(c)) k += s.verdicts ? 1 : 0;
  const analyze = performance.now() - t;
  t = performance.now();
  let bytes = 0;
  for (const chunk of renderJson(analyzeStream(c))) bytes += chunk.length;
  const both = performance.now() - t;
  return { analyze: (analyze * 1000) / n, render: ((both - analyze) * 1000) / n, bytes: bytes / n };
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const cold = pass();
const warm = Array.from({ length: reps }, pass);
const r = (x) => Math.round(x * 10) / 10;
console.log(JSON.stringify({
  sockets: n,
  cold: { analyzeUs: r(cold.analyze), renderUs: r(cold.render) },
  warm: { analyzeUs: r(median(warm.map((w) => w.analyze))), renderUs: r(median(warm.map((w) => w.render))) },
  jsonBytesPerSocket: Math.round(cold.bytes),
}));
