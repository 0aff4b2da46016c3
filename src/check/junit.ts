// check results as JUnit XML: a testsuite per rule, a testcase per socket it
// matched (<failure> with the messages, <error type="unknown"> for values that
// could not be read), "no matching socket" skipped, or failed when the rule is
// required. The document pieces are render/junit.ts's.
import { attrs, document, properties, text, xmlSafe, type Node } from '../render/junit.js';
import type { CheckResult } from './evaluate.js';

export function* renderCheckJunit(c: CheckResult): Generator<string> {
  const ctx = { ...c.context, policy: c.origin };
  const suites = c.rules.map((rule) => {
    const cases: Node[] = rule.sockets.map((s) => {
      const tc: Node = attrs({ name: s.label, classname: rule.name });
      if (s.status === 'fail') tc.failure = { ...attrs({ type: 'policy', message: s.failures[0] }), '#text': xmlSafe(s.failures.join('\n')) };
      else if (s.status === 'unknown') tc.error = { ...attrs({ type: 'unknown', message: s.unknowns[0] }), '#text': xmlSafe(s.unknowns.join('\n')) };
      tc['system-out'] = text(s.details);
      return tc;
    });
    if (!rule.sockets.length) {
      const tc: Node = attrs({ name: 'no matching socket', classname: rule.name });
      if (rule.status === 'fail') tc.failure = attrs({ type: 'required', message: rule.message });
      else tc.skipped = attrs({ message: rule.message });
      cases.push(tc);
    }
    const count = (k: string) => cases.filter((t) => t[k] !== undefined).length;
    return {
      ...attrs({
        name: rule.name, tests: cases.length, failures: count('failure'), errors: count('error'), skipped: count('skipped'),
        timestamp: c.context.capturedAt, hostname: c.context.hostname,
      }),
      properties: properties(ctx),
      testcase: cases,
    };
  });
  yield document(suites);
}
