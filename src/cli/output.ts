// Writing a report: to stdout as it is rendered, or to a file that appears
// only when complete (written to a temporary name, then renamed).
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { UsageError, fsCode } from '../errors.js';

export async function writeOutput(chunks: Iterable<string>, file?: string): Promise<void> {
  if (!file || file === '-') {
    for (const c of chunks) {
      if (!process.stdout.write(c)) await new Promise((r) => process.stdout.once('drain', r));
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
