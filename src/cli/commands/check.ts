// knetstat-java check <pid> | --snapshot FILE | --all-jvms  --policy FILE | --expect SPEC ...
// Exit 0: every rule passed (or was skipped); 1: some rule failed; 2: bad input;
// 3: no failure, but some expected value could not be read (or, with
// --all-jvms, some JVM could not be inspected).
import { evaluate } from '../../check/evaluate.js';
import { knownOptions, loadPolicy, parseExpect, type Policy } from '../../check/policy.js';
import { checkRenderer } from '../../check/render.js';
import { parsePid } from '../../discover/process.js';
import { UsageError } from '../../errors.js';
import { analyze } from '../../java/analyze.js';
import { outputKind } from '../../render/terminal.js';
import { readSnapshot } from '../../snapshot/file.js';
import { captureTarget } from '../capturing.js';
import { checkAllJvms } from './check-all.js';
import { EXIT } from '../exit.js';
import type { ReportFlags } from '../options.js';
import { stderrLine, writeOutput } from '../output.js';

interface CheckFlags extends ReportFlags {
  policy?: string;
  expect?: string[];
  snapshot?: string;
  allJvms?: boolean;
}

export async function checkCommand(pidText: string | undefined, flags: CheckFlags): Promise<number> {
  const targets = [pidText !== undefined, !!flags.snapshot, !!flags.allJvms].filter(Boolean).length;
  if (targets > 1) throw new UsageError('give one of a pid, --snapshot FILE or --all-jvms');
  if (targets === 0) throw new UsageError('missing pid: knetstat-java check <pid> --policy FILE, check --snapshot FILE --policy FILE, or check --all-jvms --policy FILE');
  if (flags.observe !== undefined && (flags.snapshot || flags.allJvms)) throw new UsageError(flags.snapshot ? '--observe needs a live process, not --snapshot (a snapshot taken with --observe carries its observation)' : '--observe observes one JVM: give its pid, not --all-jvms');
  const pid = pidText !== undefined ? parsePid(pidText) : undefined;
  const render = await checkRenderer(flags.format);
  if (!flags.policy && !flags.expect?.length) throw new UsageError('nothing to check: give --policy FILE or --expect MATCH:EXPECT (see README "Checks")');
  // The policy is read before the target is touched: a bad policy costs no capture.
  const known = knownOptions();
  const rules = [...(flags.policy ? loadPolicy(flags.policy).rules : []), ...(flags.expect ?? []).map((e) => parseExpect(e, known))];
  const policy: Policy = { rules, origin: [flags.policy, ...(flags.expect ?? []).map((e) => `--expect ${e}`)].filter(Boolean).join(', ') };
  if (flags.allJvms) return checkAllJvms(policy, flags);

  const cap = flags.snapshot ? readSnapshot(flags.snapshot).capture : await captureTarget(pid!, flags);
  const result = evaluate(analyze(cap), policy, flags.snapshot);
  await writeOutput(render(result), flags.output, { as: outputKind(flags.format) });
  if (result.status === 'fail') {
    stderrLine(`check failed: ${result.counts.failed} of ${result.counts.rules} rule(s) failed`);
    return EXIT.CHECK_FAILED;
  }
  if (result.status === 'unknown') {
    stderrLine(`check incomplete: ${result.counts.unknown} rule(s) need values that could not be read${cap.missing ? ` (${cap.missing.reason})` : ''}`);
    return EXIT.PARTIAL;
  }
  return EXIT.OK;
}
