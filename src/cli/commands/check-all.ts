// check --all-jvms: every JVM `list` shows, captured and checked one after the
// other (only one capture is held at a time), then one result: JUnit with a
// suite per JVM and rule, one JSON document, or text. A JVM that exits before
// or while it is read is skipped; one that cannot be read (another user's,
// without root) is not inspectable, which makes the run incomplete (exit 3)
// unless a rule failed somewhere (exit 1).
import { hostname } from 'node:os';
import { checkedJvm, exitedJvm, jvmName, summarize, uninspectableJvm, type JvmCheck } from '../../check/alljvms.js';
import { evaluate } from '../../check/evaluate.js';
import type { Policy } from '../../check/policy.js';
import { allJvmsRenderer } from '../../check/render.js';
import { FatalSysError, KnetstatError, UsageError } from '../../errors.js';
import { listProcesses } from '../../host/processes.js';
import { analyze } from '../../java/analyze.js';
import { hasExited, startTime } from '../../linux/lifetime.js';
import type { Capture } from '../../model/types.js';
import { outputKind } from '../../render/terminal.js';
import { TOOL } from '../../version.js';
import { captureTarget } from '../capturing.js';
import { EXIT } from '../exit.js';
import type { ReportFlags } from '../options.js';
import { stderrLine, writeOutput } from '../output.js';

/** Errors that end the whole run rather than one JVM's check: bad input, a state the tool cannot go on from, bugs. */
function endsTheRun(err: unknown): boolean {
  return !(err instanceof KnetstatError) || err instanceof UsageError || err instanceof FatalSysError;
}

function message(err: KnetstatError): string {
  return `${err.message}${err.remedy ? ` (${err.remedy})` : ''}`;
}

export async function checkAllJvms(policy: Policy, flags: ReportFlags): Promise<number> {
  const render = await allJvmsRenderer(flags.format);
  const startedAt = new Date().toISOString();
  const listed = listProcesses({ sockets: false }).map((e) => ({ entry: e, started: startTime(e.pid) }));
  const jvms: JvmCheck[] = [];
  for (const [i, { entry, started }] of listed.entries()) {
    const id = { pid: entry.pid, mainClass: entry.mainClass, user: entry.user, uid: entry.uid };
    let cap: Capture;
    try {
      cap = await captureTarget(entry.pid, flags, `${jvmName(id)} (${i + 1}/${listed.length}): reading sockets`);
    } catch (err) {
      if (endsTheRun(err)) throw err;
      const why = message(err as KnetstatError);
      jvms.push(hasExited(entry.pid, started) ? exitedJvm(id, `the JVM exited during the run: ${why}`) : uninspectableJvm(id, `not inspectable: ${why}`));
      continue;
    }
    // Exited mid-scan, or the pid is now another process's: nothing of it is judged.
    if (cap.exited || hasExited(entry.pid, started)) {
      jvms.push(exitedJvm(id, `the JVM exited during the run${cap.exited ? ` (${cap.sockets.length} socket(s) read before it did)` : ''}`));
      continue;
    }
    jvms.push(checkedJvm(id, evaluate(analyze(cap), policy)));
  }
  const result = summarize(jvms, { origin: policy.origin, hostname: hostname(), startedAt, tool: TOOL });
  await writeOutput(render(result), flags.output, { as: outputKind(flags.format) });
  for (const j of jvms) if (j.reason) stderrLine(`${jvmName(j)}: ${j.outcome === 'exited' ? 'skipped' : 'unknown'}: ${j.reason}`);
  if (jvms.length === 0) stderrLine('no JVM found on this host: nothing was checked');
  const failedRules = jvms.reduce((n, j) => n + (j.result?.counts.failed ?? 0), 0);
  if (result.status === 'fail') {
    stderrLine(`check failed: ${failedRules} rule(s) failed on ${result.counts.failed} of ${result.counts.jvms} JVM(s)`);
    return EXIT.CHECK_FAILED;
  }
  if (result.status === 'unknown') {
    stderrLine(`check incomplete: ${result.counts.unknown} of ${result.counts.jvms} JVM(s) could not be checked completely`);
    return EXIT.PARTIAL;
  }
  return EXIT.OK;
}
