// JUnit XML (the Jenkins/Surefire junit-10.xsd shape) for CI: the plain report,
// one passing testcase per socket, and the document pieces check/junit.ts
// builds check results from. Built with fast-xml-parser's XMLBuilder (loaded
// when the first document is built: packages.ts), which escapes < & > " ';
// text we did not write also goes through xmlSafe() first, because XML 1.0
// forbids most control characters even as references, and its bare boolean
// attributes are turned off (value="true" stays a value).
import type { Report } from '../model/types.js';
import { load } from '../packages.js';
import { reportContext, socketDetails, socketLabel, type ReportContext } from './format.js';

/**
 * Text safe for an XML 1.0 document: terminal escape sequences stripped, other
 * control characters (except tab and newline) as '?', lone surrogates and the
 * non-characters U+FFFE/U+FFFF as U+FFFD.
 */
export function xmlSafe(text: string): string {
  return text
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '') // CSI
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '') // OSC
    .replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '?')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/[\ufffe\uffff]/g, '\ufffd');
}

export type Node = Record<string, unknown>;

let builder: { build(doc: unknown): unknown } | undefined;
function xmlBuilder(): { build(doc: unknown): unknown } {
  return builder ??= new (load('fast-xml-parser').XMLBuilder)({
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
}

/** XML attributes (@_name), each value made XML-safe. */
export function attrs(a: Record<string, string | number | undefined>): Node {
  const out: Node = {};
  for (const [k, v] of Object.entries(a)) if (v !== undefined) out[`@_${k}`] = xmlSafe(String(v));
  return out;
}

/** A text node, made XML-safe. */
export function text(t: string): Node {
  return { '#text': xmlSafe(t) };
}

/** A testsuite's <properties>: what the report came from (and the policy, for check). */
export function properties(c: ReportContext & { policy?: string }): Node {
  const props: [string, string][] = [
    ['host', c.hostname], ['kernel', c.kernel], ['pid', String(c.pid)], ['process', c.comm],
    ['cmdline', c.cmdline.join(' ')], ['jvm', c.jvm], ['source', c.source], ['capturedAt', c.capturedAt],
    ['tool', `knetstat-java ${c.toolVersion}`], ['redacted', String(c.redacted)],
  ];
  if (c.snapshot) props.push(['snapshot', c.snapshot]);
  if (c.observation) props.push(['observation', c.observation]);
  if (c.policy) props.push(['policy', c.policy]);
  return { property: props.map(([name, value]) => attrs({ name, value })) };
}

/** The whole document: <testsuites> with the sums of its suites. */
export function document(suites: Node[]): string {
  const sum = (k: string) => suites.reduce((n, s) => n + Number(s[`@_${k}`] ?? 0), 0);
  const xml = xmlBuilder().build({
    testsuites: { ...attrs({ name: 'knetstat-java', tests: sum('tests'), failures: sum('failures'), errors: sum('errors') }), testsuite: suites },
  }) as string;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xml.endsWith('\n') ? xml : `${xml}\n`}`;
}

/** The plain report: one passing testcase per socket; system-out holds its options and Java calls. */
export function* renderJunit(r: Report): Generator<string> {
  const ctx = reportContext(r);
  const cases = r.sockets.map((s) => (
    { ...attrs({ name: socketLabel(s), classname: `knetstat-java.pid${r.process.pid}` }), 'system-out': text(socketDetails(s, { unknownLine: true }).join('\n')) }
  ));
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
