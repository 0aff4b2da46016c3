// JUnit XML (the Jenkins/Surefire junit-10.xsd shape) for CI: the plain report
// (one passing testcase per socket) and check results (a testsuite per rule, a
// testcase per socket it matched). Built with fast-xml-parser's XMLBuilder,
// which escapes < & > " '; text we did not write also goes through xmlSafe()
// first, because XML 1.0 forbids most control characters even as references,
// and its bare boolean attributes are turned off (value="true" stays a value).
import { XMLBuilder } from 'fast-xml-parser';
import type { Report } from '../model/types.js';
import type { CheckResult } from '../check/evaluate.js';
import { socketLabel } from '../check/evaluate.js';
import { registerRenderer } from './index.js';
import { sanitize, showValue } from './text.js';

/**
 * Text safe for an XML 1.0 document: terminal escape sequences stripped, other
 * control characters (except tab and newline) as '?', lone surrogates and the
 * non-characters U+FFFE/U+FFFF as U+FFFD.
 */
export function xmlSafe(text: string): string {
  return sanitize(text)
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/[\ufffe\uffff]/g, '\ufffd');
}

type Node = Record<string, unknown>;

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
  processEntities: true,
  // By default XMLBuilder writes an attribute whose value is "true" as a bare name (value), which is not XML.
  suppressBooleanAttributes: false,
});

function attrs(a: Record<string, string | number | undefined>): Node {
  const out: Node = {};
  for (const [k, v] of Object.entries(a)) if (v !== undefined) out[`@_${k}`] = xmlSafe(String(v));
  return out;
}

function text(t: string): Node {
  return { '#text': xmlSafe(t) };
}

interface Ctx {
  pid: number; comm: string; cmdline: string[]; hostname: string; kernel: string; jvm: string; source: string;
  capturedAt: string; toolVersion: string; redacted: boolean; snapshot?: string; policy?: string;
}

function properties(c: Ctx): Node {
  const props: [string, string][] = [
    ['host', c.hostname], ['kernel', c.kernel], ['pid', String(c.pid)], ['process', c.comm],
    ['cmdline', c.cmdline.join(' ')], ['jvm', c.jvm], ['source', c.source], ['capturedAt', c.capturedAt],
    ['tool', `knetstat-java ${c.toolVersion}`], ['redacted', String(c.redacted)],
  ];
  if (c.snapshot) props.push(['snapshot', c.snapshot]);
  if (c.policy) props.push(['policy', c.policy]);
  return { property: props.map(([name, value]) => attrs({ name, value })) };
}

function document(suites: Node[]): string {
  const sum = (k: string) => suites.reduce((n, s) => n + Number(s[`@_${k}`] ?? 0), 0);
  const xml = builder.build({
    testsuites: { ...attrs({ name: 'knetstat-java', tests: sum('tests'), failures: sum('failures'), errors: sum('errors') }), testsuite: suites },
  }) as string;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xml.endsWith('\n') ? xml : `${xml}\n`}`;
}

function reportCtx(r: Report): Ctx {
  const p = r.process;
  return {
    pid: p.pid, comm: p.comm, cmdline: p.cmdline, hostname: r.host.hostname, kernel: r.host.kernel,
    jvm: p.jvm ? `${p.jvm.vendor ? `${p.jvm.vendor} ` : ''}${p.jvm.version ?? 'unknown version'}` : 'not a JVM',
    source: r.sources.filter((s) => s.used).map((s) => s.name).join(' + ') || 'none',
    capturedAt: r.capturedAt, toolVersion: r.tool.version, redacted: r.redacted === true,
  };
}

/** The plain report: one passing testcase per socket; system-out holds its options and Java calls. */
export function* renderJunit(r: Report): Generator<string> {
  const ctx = reportCtx(r);
  const cases = r.sockets.map((s) => {
    const lines = [`role: ${s.role} (${s.apis.join(' / ')})`, 'options:'];
    for (const [name, o] of Object.entries(s.options)) lines.push(`  ${name}=${showValue(o.value)}${o.inferred ? ' (inferred)' : ''}  [${o.source}]`);
    if (s.unknown.length) lines.push(`unknown (could not be read): ${s.unknown.join(', ')}`);
    lines.push('java:');
    if (!s.java.length) lines.push('  nothing set: every option is as a fresh socket of this kind has it');
    for (const c of s.java) lines.push(`  ${c.api === 'native' || c.call.startsWith('new ') ? '' : `${c.api}.`}${c.call}  (${c.origin})`);
    return { ...attrs({ name: socketLabel(s), classname: `knetstat-java.pid${r.process.pid}` }), 'system-out': text(lines.join('\n')) };
  });
  const suite: Node = {
    ...attrs({
      name: `knetstat-java pid ${r.process.pid} (${r.process.comm})`, tests: cases.length, failures: 0, errors: 0, skipped: 0,
      timestamp: r.capturedAt, hostname: r.host.hostname,
    }),
    properties: properties(ctx),
    testcase: cases,
  };
  const out: string[] = [];
  if (r.warnings.length || r.missing) {
    out.push(...r.warnings.map((w) => `warning: ${w}`));
    if (r.missing) out.push(`missing: ${r.missing.options.join(', ')}: ${r.missing.reason}`);
    suite['system-err'] = text(out.join('\n'));
  }
  yield document([suite]);
}

/** check: a testsuite per rule, a testcase per socket it matched (failure / error for unknown values), skipped when it matched none. */
export function* renderCheckJunit(c: CheckResult): Generator<string> {
  const ctx: Ctx = { ...c.context, policy: c.origin };
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

registerRenderer('junit', renderJunit);
