// Reading JUnit XML as CI does: schema validation with xmllint against the
// Jenkins xunit plugin's junit-10.xsd (../shared beside the clone, else the
// MIT-licensed copy in test/fixtures) and parsing with
// python3-junitparser (Debian packages libxml2-utils, python3-junitparser).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './jvm.js';

const SHARED_XSD = resolve(ROOT, '..', 'shared', 'junit-10.xsd');
export const XSD = existsSync(SHARED_XSD) ? SHARED_XSD : resolve(ROOT, 'test', 'fixtures', 'junit-10.xsd');

export function xmllint(file: string): { code: number; stderr: string } {
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`xmllint: ${r.error.message} (apt-get install libxml2-utils)`);
  return { code: r.status ?? -1, stderr: r.stderr };
}

export interface ParsedCase { name: string; classname: string; results: { kind: string; message: string | null; text: string | null }[]; systemOut: string | null }
export interface ParsedSuite { name: string; tests: number; failures: number; errors: number; skipped: number; properties: Record<string, string>; cases: ParsedCase[] }

const PY = `
import json, sys
from junitparser import JUnitXml
x = JUnitXml.fromfile(sys.argv[1])
out = []
for s in x:
    out.append({
        "name": s.name, "tests": s.tests, "failures": s.failures, "errors": s.errors, "skipped": s.skipped,
        "properties": {p.name: p.value for p in s.properties()},
        "cases": [{"name": c.name, "classname": c.classname, "systemOut": c.system_out,
                   "results": [{"kind": type(r).__name__, "message": r.message, "text": r.text} for r in c.result]} for c in s],
    })
print(json.dumps({"tests": x.tests, "failures": x.failures, "errors": x.errors, "skipped": x.skipped, "suites": out}))
`;

export function junitparser(file: string): { tests: number; failures: number; errors: number; skipped: number; suites: ParsedSuite[] } {
  const r = spawnSync('/usr/bin/python3', ['-c', PY, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`junitparser failed (apt-get install python3-junitparser): ${r.error?.message ?? ''}${r.stderr}`);
  return JSON.parse(r.stdout);
}
