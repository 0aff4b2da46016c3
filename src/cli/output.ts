// Writing a report: to stdout as it is rendered, or to a file that appears
// only when complete (written to a temporary name, then renamed).
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { UsageError, fsCode } from '../errors.js';

// A reader that goes away (`knetstat-java 42 | head`) is not an error: stop
// writing and exit quietly, like a tool killed by SIGPIPE (Node ignores it).
let stdoutGone = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  stdoutGone = true;
});

export async function writeOutput(chunks: Iterable<string>, file?: string): Promise<void> {
  if (!file || file === '-') {
    for (const c of chunks) {
      if (stdoutGone) return;
      if (!process.stdout.write(c)) {
        await new Promise<void>((r) => {
          const done = () => { process.stdout.off('drain', done); process.stdout.off('error', done); r(); };
          process.stdout.once('drain', done);
          process.stdout.once('error', done);
        });
      }
    }
    return;
  }
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (err) {
    throw new UsageError(`cannot write ${file}: ${fsCode(err) ?? (err as Error).message}`, { cause: err });
  }
  try {
    for (const c of chunks) writeSync(fd, c);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (err) {
    try { closeSync(fd); } catch { /* already closed */ }
    try { unlinkSync(tmp); } catch { /* never created */ }
    throw new UsageError(`cannot write ${file}: ${fsCode(err) ?? (err as Error).message}`, { cause: err });
  }
}
