// knetstat-java bpf-selfcheck [--seed N] [--rounds N] [-f text|json]: the bpf
// source against getsockopt() on sockets this process makes itself (see
// src/sources/bpfselfcheck.ts). Exit 0 when every value and flag agrees, 1
// when one does not, 3 when the bpf source cannot run here (the reason on stderr).
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { bpfUnavailable } from '../../linux/bpfwalk.js';
import { outputKind } from '../../render/terminal.js';
import { bpfSelfCheck, type SelfCheckResult } from '../../sources/bpfselfcheck.js';
import { EXIT } from '../exit.js';
import { formatOption } from '../options.js';
import { stderrLine, writeOutput } from '../output.js';

function text(r: SelfCheckResult): string {
  const lines = [
    `bpf self-check on Linux ${r.kernel} (libbpf ${r.libbpf ?? '?'}, HZ ${r.hz}, seed ${r.seed}): ${r.sockets} sockets, ` +
    `${r.compared - r.differences.length} of ${r.compared} values equal to getsockopt's, ` +
    `${r.flagsChecked - r.flagDifferences.length} of ${r.flagsChecked} lock/explicit flags as set`,
    ...r.differences.map((d) => `  differs: ${d}`),
    ...r.flagDifferences.map((d) => `  flag: ${d}`),
  ];
  return `${lines.join('\n')}\n`;
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`not a positive integer: '${v}'`);
  return n;
}

export async function bpfCheckCommand(flags: { seed: number; rounds: number; format: string }): Promise<number> {
  const why = bpfUnavailable();
  if (why) {
    // Not bad input: the check cannot run on this host (exit 3, as a partial report).
    stderrLine(`bpf self-check: ${why}`);
    return EXIT.PARTIAL;
  }
  const r = bpfSelfCheck({ seed: flags.seed, rounds: flags.rounds });
  await writeOutput([flags.format === 'json' ? `${JSON.stringify(r, null, 2)}\n` : text(r)], undefined, { as: outputKind(flags.format) });
  return r.differences.length || r.flagDifferences.length ? EXIT.CHECK_FAILED : EXIT.OK;
}

export function registerBpfCheck(program: Command): void {
  program
    .command('bpf-selfcheck')
    .description('check the bpf source against getsockopt on sockets of its own (no JVM needed)')
    .option('--seed <n>', 'seed of the option mix', positive, 1)
    .option('--rounds <n>', 'rounds of sockets (each: a listener, client, accepted socket, UDP socket...)', positive, 12)
    .addOption(formatOption(['text', 'json'], { choices: true }))
    .action(async (flags: { seed: number; rounds: number; format: string }) => {
      process.exitCode = await bpfCheckCommand(flags);
    });
}
