// Records the samples in this folder (run after `npm run build`, as root):
//   node samples/jfr/record.mjs 17 /usr/lib/jvm/java-17-openjdk-amd64/bin/java
//   node samples/jfr/record.mjs 25 /usr/lib/jvm/temurin-25-jdk-amd64/bin/java
// A TimeoutLab with one socket of each kind, observed for 2 s while it does 3
// ping-pongs per client; writes jdk<N>-sockets.jfr and its entry in
// expected.json, computed from what the sample itself counted (not from our
// parser), by the rules JFR follows on that JDK; test/unit/observe-jfr.test.ts
// checks the parser against it.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { observe } from '../../dist/observe/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const [feature, java] = process.argv.slice(2);
const classes = join(root, 'test', '.work', 'jfr-samples');
mkdirSync(classes, { recursive: true });
execFileSync('javac', ['--release', '17', '-d', classes, join(root, 'samples', 'java', 'TimeoutLab.java')]);
const lab = spawn(java, ['-Xmx32m', '-cp', classes, 'TimeoutLab', 'seed=16', 'groups=1', 'perGroup=1'], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = [];
const waiters = [];
createInterface({ input: lab.stdout }).on('line', (l) => { lines.push(l); waiters.splice(0).forEach((w) => w()); });
const line = async (prefix) => { for (;;) { const l = lines.find((x) => x.startsWith(prefix)); if (l) return JSON.parse(l.slice(prefix.length + 1)); await new Promise((r) => waiters.push(r)); } };
const ready = await line('READY');
const raw = [];
let done;
await observe(ready.pid, { durationMs: 2000, onStarted: () => { lab.stdin.write('burst 3\n'); done = line('DONE'); }, onRawChunk: (c) => raw.push(c) });
const counts = (await done).sockets;
lab.stdin.end();
lab.kill();
const file = `jdk${feature}-sockets.jfr`;
writeFileSync(join(here, file), Buffer.concat(raw));
// What JFR records, by the sample's own counts: a peer is the socket's remote end.
const peers = {};
let reads = 0, writes = 0;
for (const c of counts) {
  const s = ready.sockets.find((x) => x.id === c.id);
  const seen = s.api !== 'adaptor' || Number(feature) >= 22; // JDK 21 and older emit no event for adaptor streams
  if (!seen || (c.reads === 0 && c.writes === 0)) continue;
  const timeouts = s.api === 'channel' || s.api === 'selector' ? [0] : [s.soTimeout];
  // A read already waiting when the recording started is not recorded (JFR decides when a read begins).
  const r = c.reads - c.readsBefore;
  // Sockets to the same peer (the 'inf' pair) are one peer to JFR.
  const p = (peers[`127.0.0.1|${c.remotePort}`] ??= { reads: 0, bytesRead: 0, writes: 0, bytesWritten: 0, timeouts });
  p.reads += r;
  p.bytesRead += c.bytesRead - c.bytesBefore;
  p.writes += c.writes;
  p.bytesWritten += c.bytesWritten;
  reads += r;
  writes += c.writes;
}
const exp = JSON.parse(readFileSync(join(here, 'expected.json'), 'utf8').toString() || '{}');
exp[file] = { reads, writes, peers };
writeFileSync(join(here, 'expected.json'), `${JSON.stringify(exp, null, 2)}\n`);
console.log(file, Buffer.concat(raw).length, 'bytes', reads, 'reads', writes, 'writes');
