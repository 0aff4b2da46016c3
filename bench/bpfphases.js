// In-process timing of the bpf source for bench/run.js: node bench/bpfphases.js <pid>
// Prints one JSON line: the object's load (open + verify), the iterator walk
// and read() of all records, their decoding, their conversion to the model's
// sockets, and whole captures through bpf and through pidfd (medians).
import { decodeWalk } from '../dist/linux/bpfrecord.js';
import { loadObject, walkHz, walkProcess } from '../dist/linux/bpfwalk.js';
import { socketFromRecord } from '../dist/sources/bpf.js';
import { capture } from '../dist/capture.js';

const pid = Number(process.argv[2]);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const time = (f, n) => { const ts = []; let r; for (let i = 0; i < n; i++) { const t = performance.now(); r = f(); ts.push(performance.now() - t); } return { ms: median(ts), r }; };
const out = {};
walkProcess(pid); // warm: libbpf and libc bound, code compiled

const load = time(() => loadObject(['knetstat_task_file']), 1);
out.loadMs = load.ms;
const obj = load.r;
const read = time(() => obj.readIter('knetstat_task_file', { pid }), 5);
out.readMs = read.ms;
out.bytes = read.r.length;
const dec = time(() => decodeWalk(read.r), 5);
out.decodeMs = dec.ms;
out.records = dec.r.socks.length;
const hz = walkHz(dec.r, 'walk');
out.toModelMs = time(() => dec.r.socks.map((r) => socketFromRecord(r, hz)), 5).ms;
obj.close();
out.walkMs = time(() => walkProcess(pid), 3).ms;

const cap = async (source, n) => {
  const ts = [];
  let sockets = 0;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const c = await capture(pid, { source, any: true });
    ts.push(performance.now() - t);
    sockets = c.sockets.length;
  }
  return { ms: median(ts), sockets };
};
const b = await cap('bpf', 3);
out.captureBpfMs = b.ms;
out.sockets = b.sockets;
out.capturePidfdMs = (await cap('pidfd', out.sockets > 15000 ? 1 : 3)).ms;
console.log(JSON.stringify(out));
