// A CheckResult as text or JSON (JUnit: check/junit.ts), and the table of check formats.
import { UsageError } from '../errors.js';
import { terminalSafe } from '../render/terminal.js';
import type { CheckResult } from './evaluate.js';
import { renderCheckJunit } from './junit.js';

export function* renderCheckText(result: CheckResult): Generator<string> {
  // Names, messages and values come from the policy, --expect and the target: shown safe for a terminal.
  const c = terminalSafe(result);
  const x = c.context;
  const { rules, passed, failed, skipped, unknown } = c.counts;
  yield `knetstat-java check: pid ${x.pid} (${x.comm}) on ${x.hostname}${x.snapshot ? `, snapshot ${x.snapshot}` : ''}, policy ${c.origin}\n`;
  yield `  ${rules} rule${rules === 1 ? '' : 's'}: ${passed} passed, ${failed} failed, ${skipped} skipped, ${unknown} unknown\n`;
  for (const r of c.rules) {
    const tag = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP', unknown: 'UNKNOWN' }[r.status];
    const n = r.sockets.length;
    yield `${tag.padEnd(8)}${r.name}${n ? ` (${n} socket${n === 1 ? '' : 's'})` : ''}${r.message ? `: ${r.message}` : ''}\n`;
    for (const s of r.sockets) {
      for (const f of s.failures) yield `          ${f}\n`;
      for (const u of s.unknowns) yield `          unknown: ${u}\n`;
    }
  }
}

export function* renderCheckJson(c: CheckResult): Generator<string> {
  yield `${JSON.stringify(c, null, 2)}\n`;
}

const CHECK_RENDERERS: Record<string, (c: CheckResult) => Iterable<string>> = {
  text: renderCheckText,
  json: renderCheckJson,
  junit: renderCheckJunit,
};

/** The formats check writes. */
export const CHECK_FORMATS = Object.keys(CHECK_RENDERERS);

export function checkRenderer(format: string): (c: CheckResult) => Iterable<string> {
  const r = CHECK_RENDERERS[format];
  if (!r) throw new UsageError(`unknown format '${format}' for check (choose one of: ${CHECK_FORMATS.join(', ')})`);
  return r;
}
