// A process that has undo steps pending, for test/cleanup.test.ts: a temporary
// file removed by a synchronous step, and an asynchronous step that finishes,
// hangs or throws. Markers (one line each, appended to argv[3]) say what ran,
// in what order.  node interrupt-child.mjs <mode> <tmpfile> <markers> <boundMs>
import { appendFileSync, existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { interrupted, onInterrupt, onInterruptAsync } from '../../dist/cleanup.js';

const [mode, tmp, markers, bound] = process.argv.slice(2);
const mark = (m) => appendFileSync(markers, `${m}\n`);
writeFileSync(tmp, 'half a report');
onInterrupt(() => { unlinkSync(tmp); mark('sync'); });
if (mode !== 'none') {
  onInterruptAsync(async () => {
    mark(`async-start ${existsSync(tmp) ? 'tmp-still-there' : 'tmp-gone'} ${interrupted()}`);
    if (mode === 'throws') throw new Error('undo failed');
    if (mode === 'hangs') await new Promise(() => {});
    await new Promise((r) => setTimeout(r, 300));
    mark('async-done');
  }, Number(bound));
}
setInterval(() => {}, 1000);
process.stdout.write('READY\n');
