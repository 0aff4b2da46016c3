// A CheckResult as text or JSON (JUnit: check/junit.ts), and the table of check
// formats; the same for check --all-jvms's AllJvmsResult.
import { UsageError } from '../errors.js';
import { terminalSafe } from '../render/terminal.js';
import { jvmName, type AllJvmsResult } from './alljvms.js';
import type { CheckResult } from './evaluate.js';

const TAG = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP', unknown: 'UNKNOWN' } as const;

export function* renderCheckText(result: CheckResult): Generator<string> {
  // Names, messages and values come from the policy, --expect and the target: shown safe for a terminal.
  const c = terminalSafe(result);
  const x = c.context;
  const { rules, passed, failed, skipped, unknown } = c.counts;
  yield `knetstat-java check: pid ${x.pid} (${x.comm}) on ${x.hostname}${x.snapshot ? `, snapshot ${x.snapshot}` : ''}, policy ${c.origin}\n`;
  yield `  ${rules} rule${rules === 1 ? '' : 's'}: ${passed} passed, ${failed} failed, ${skipped} skipped, ${unknown} unknown\n`;
  for (const r of c.rules) {
    const tag = TAG[r.status];
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

/** --all-jvms as text: a line per JVM that was not checked, each checked JVM's check, the sums last. */
export function* renderAllJvmsText(result: AllJvmsResult): Generator<string> {
  const r = terminalSafe(result);
  for (const j of r.jvms) {
    if (j.result) yield* renderCheckText(j.result);
    else yield `${TAG[j.status].padEnd(8)}${jvmName(j)}${j.user ? ` of ${j.user}` : ''}: ${j.reason}\n`;
  }
  const { jvms, passed, failed, unknown, skipped } = r.counts;
  yield `knetstat-java check --all-jvms on ${r.hostname}, policy ${r.origin}: ${jvms} JVM${jvms === 1 ? '' : 's'}: ${passed} passed, ${failed} failed, ${unknown} unknown, ${skipped} skipped\n`;
}

export function* renderAllJvmsJson(r: AllJvmsResult): Generator<string> {
  yield `${JSON.stringify(r, null, 2)}\n`;
}

interface CheckRenderers {
  one: (c: CheckResult) => Iterable<string>;
  all: (r: AllJvmsResult) => Iterable<string>;
}

/** JUnit (and the XML builder behind it) is loaded only when chosen. */
const CHECK_RENDERERS: Record<string, () => Promise<CheckRenderers>> = {
  text: async () => ({ one: renderCheckText, all: renderAllJvmsText }),
  json: async () => ({ one: renderCheckJson, all: renderAllJvmsJson }),
  junit: async () => {
    const j = await import('./junit.js');
    return { one: j.renderCheckJunit, all: j.renderAllJvmsJunit };
  },
};

/** The formats check writes. */
export const CHECK_FORMATS = Object.keys(CHECK_RENDERERS);

function renderers(format: string): Promise<CheckRenderers> {
  const r = CHECK_RENDERERS[format];
  if (!r) throw new UsageError(`unknown format '${format}' for check (choose one of: ${CHECK_FORMATS.join(', ')})`);
  return r();
}

export async function checkRenderer(format: string): Promise<(c: CheckResult) => Iterable<string>> {
  return (await renderers(format)).one;
}

export async function allJvmsRenderer(format: string): Promise<(r: AllJvmsResult) => Iterable<string>> {
  return (await renderers(format)).all;
}
