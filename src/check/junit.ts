// check results as JUnit XML: a testsuite per rule, a testcase per socket it
// matched (<failure> with the messages, <error type="unknown"> for values that
// could not be read), "no matching socket" skipped, or failed when the rule is
// required. check --all-jvms: a testsuite per JVM and rule (pid and main class
// in its name and properties), one skipped suite for a JVM that exited during
// the run, one <error type="not-inspectable"> for a JVM that could not be read.
// The document pieces are render/junit.ts's.
import { attrs, document, properties, text, xmlSafe, type Node } from '../render/junit.js';
import { jvmName, type AllJvmsResult, type JvmCheck } from './alljvms.js';
import type { CheckResult } from './evaluate.js';

function count(cases: Node[], k: string): number {
  return cases.filter((t) => t[k] !== undefined).length;
}

/** One suite per rule; jvm: the suites of one JVM of --all-jvms (its name before the rule's, its main class a property). */
function ruleSuites(c: CheckResult, jvm?: JvmCheck): Node[] {
  const ctx = { ...c.context, policy: c.origin };
  return c.rules.map((rule) => {
    const name = jvm ? `${jvmName(jvm)}: ${rule.name}` : rule.name;
    const cases: Node[] = rule.sockets.map((s) => {
      const tc: Node = attrs({ name: s.label, classname: name });
      if (s.status === 'fail') tc.failure = { ...attrs({ type: 'policy', message: s.failures[0] }), '#text': xmlSafe(s.failures.join('\n')) };
      else if (s.status === 'unknown') tc.error = { ...attrs({ type: 'unknown', message: s.unknowns[0] }), '#text': xmlSafe(s.unknowns.join('\n')) };
      tc['system-out'] = text(s.details);
      return tc;
    });
    if (!rule.sockets.length) {
      const tc: Node = attrs({ name: 'no matching socket', classname: name });
      if (rule.status === 'fail') tc.failure = attrs({ type: 'required', message: rule.message });
      else tc.skipped = attrs({ message: rule.message });
      cases.push(tc);
    }
    const props = properties(ctx);
    if (jvm) (props.property as Node[]).push(attrs({ name: 'mainClass', value: jvm.mainClass ?? '' }));
    return {
      ...attrs({
        name, tests: cases.length, failures: count(cases, 'failure'), errors: count(cases, 'error'), skipped: count(cases, 'skipped'),
        timestamp: c.context.capturedAt, hostname: c.context.hostname,
      }),
      properties: props,
      testcase: cases,
    };
  });
}

export function* renderCheckJunit(c: CheckResult): Generator<string> {
  yield document(ruleSuites(c));
}

/** A JVM that was not checked: one testcase, skipped (it exited) or an error (not inspectable). */
function uncheckedSuite(r: AllJvmsResult, j: JvmCheck): Node {
  const name = jvmName(j);
  const tc: Node = attrs({ name: 'check', classname: name });
  if (j.outcome === 'exited') tc.skipped = attrs({ message: j.reason });
  else tc.error = attrs({ type: 'not-inspectable', message: j.reason });
  const props: [string, string | undefined][] = [
    ['host', r.hostname], ['pid', String(j.pid)], ['mainClass', j.mainClass ?? ''], ['user', j.user ?? (j.uid !== undefined ? String(j.uid) : undefined)],
    ['tool', `${r.tool.name} ${r.tool.version}`], ['policy', r.origin],
  ];
  return {
    ...attrs({
      name, tests: 1, failures: 0, errors: j.outcome === 'exited' ? 0 : 1, skipped: j.outcome === 'exited' ? 1 : 0,
      timestamp: r.startedAt, hostname: r.hostname,
    }),
    properties: { property: props.filter((p): p is [string, string] => p[1] !== undefined).map(([n, value]) => attrs({ name: n, value })) },
    testcase: [tc],
  };
}

export function* renderAllJvmsJunit(r: AllJvmsResult): Generator<string> {
  yield document(r.jvms.flatMap((j) => (j.result ? ruleSuites(j.result, j) : [uncheckedSuite(r, j)])));
}
