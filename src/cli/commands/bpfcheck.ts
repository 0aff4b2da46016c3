// knetstat-java bpf-selfcheck [--seed N] [--rounds N] [-f text|json]: the bpf
// source against getsockopt() on sockets this process makes itself (see
// src/sources/bpfselfcheck.ts). Exit 0 when every value and flag agrees, 1
// when one does not, 3 when the bpf source cannot run here (the reason on stderr).
import { bpfUnavailable } from '../../linux/bpfwalk.js';
import { outputKind } from '../../render/terminal.js';
import { bpfSelfCheck, type SelfCheckResult } from '../../sources/bpfselfcheck.js';
import { EXIT } from '../exit.js';
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
