// knetstat-java check <pid> | --snapshot FILE | --all-jvms  --policy FILE | --expect SPEC ...
// Exit 0: every rule passed (or was skipped); 1: some rule failed; 2: bad input;
// 3: no failure, but some expected value could not be read (or, with
// --all-jvms, some JVM could not be inspected).
import type { Command } from 'commander';
import { evaluate } from '../../check/evaluate.js';
import { knownOptions, loadPolicy, parseExpect, type Policy } from '../../check/policy.js';
import { CHECK_FORMATS, checkRenderer } from '../../check/render.js';
import { parsePid } from '../../discover/process.js';
import { UsageError } from '../../errors.js';
import { analyze } from '../../java/analyze.js';
import { outputKind } from '../../render/terminal.js';
import { readSnapshot } from '../../snapshot/file.js';
import { captureTarget } from '../capturing.js';
import { checkAllJvms } from './check-all.js';
import { EXIT } from '../exit.js';
import { addCaptureOptions, formatOption, outputOption, type ReportFlags } from '../options.js';
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
  const pid = pidText !== undefined ? parsePid(pidText) : undefined;
  const render = checkRenderer(flags.format);
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

export function registerCheck(program: Command): void {
  // Subcommand options after the subcommand name belong to it, not to the report's own -f/-o/-q.
  program.enablePositionalOptions();
  const cmd = program
    .command('check')
    .description('check sockets against a policy (exit 0 pass, 1 a rule failed, 2 bad input, 3 a value could not be read)')
    .argument('[pid]', 'process id of the JVM (or --snapshot FILE)')
    .option('-p, --policy <file>', 'policy JSON (see README "Checks")')
    .option('-e, --expect <spec>', "quick rule 'remotePort=5432:SO_KEEPALIVE=1' (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
    .option('--snapshot <file>', 'check a snapshot file instead of a live process')
    .option('--all-jvms', 'check every JVM on this host (as `list` shows them), in one result')
    .addOption(formatOption(CHECK_FORMATS, { choices: true }))
    .addOption(outputOption('the result'));
  addCaptureOptions(cmd)
    .action(async (pid: string | undefined, flags: CheckFlags) => {
      process.exitCode = await checkCommand(pid, flags);
    });
}
