// examples/kubernetes/daemonset.yaml cannot run here (no cluster). What can be
// checked is: valid YAML (python3-yaml, as kubectl would parse it); every
// object against the Kubernetes API types (kubernetes-types, compiled with
// tsc: an unknown or mistyped field is an error, shown to fail on a misspelt
// copy); the API server's own rules for the fields used; the policy through the
// tool's parser; and the DaemonSet's script, run for one round here against
// real JVMs with the real executable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePolicy } from '../src/check/policy.js';
import { xmllint } from './helpers/junit.js';
import { ROOT, WORK, startJvm, type Jvm } from './helpers/jvm.js';
import { EXE } from './helpers/nonode.js';
import { pidNamespace, pidNamespaceUnavailable, type PidNamespace } from './helpers/pidns.js';

const MANIFEST = join(ROOT, 'examples', 'kubernetes', 'daemonset.yaml');

/** Parsed YAML: untyped until the checks below. */
function loadYaml(file: string): any[] {
  const py = 'import json, sys, yaml\nprint(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))';
  const r = spawnSync('/usr/bin/python3', ['-c', py, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`YAML: ${r.stderr.trim().split('\n').pop()} (apt-get install python3-yaml)`);
  return JSON.parse(r.stdout);
}

/** Which kubernetes-types type an object must satisfy. */
const TYPES: Record<string, [module: string, type: string]> = {
  'v1/Namespace': ['kubernetes-types/core/v1', 'Namespace'],
  'v1/ServiceAccount': ['kubernetes-types/core/v1', 'ServiceAccount'],
  'v1/ConfigMap': ['kubernetes-types/core/v1', 'ConfigMap'],
  'apps/v1/DaemonSet': ['kubernetes-types/apps/v1', 'DaemonSet'],
};

/** tsc on `const x: Type = <object literal>` for each object: excess-property and type errors, or ''. */
function typeErrors(docs: any[], name: string): string {
  const dir = join(WORK, 'k8s-types');
  mkdirSync(dir, { recursive: true });
  const imports = new Set<string>();
  const lines = docs.map((d, i) => {
    const t = TYPES[`${d.apiVersion}/${d.kind}`];
    if (!t) throw new Error(`no type for ${d.apiVersion} ${d.kind}`);
    imports.add(`import type { ${t[1]} } from '${t[0]}';`);
    return `export const doc${i}: ${t[1]} = ${JSON.stringify(d, null, 1)};`;
  });
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, `${[...imports].join('\n')}\n${lines.join('\n')}\n`);
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--module', 'commonjs', '--moduleResolution', 'node', '--target', 'es2022', '--types', 'node', file], { encoding: 'utf8', cwd: ROOT });
  return r.status === 0 ? '' : r.stdout + r.stderr;
}

const haveYaml = spawnSync('/usr/bin/python3', ['-c', 'import yaml'], { stdio: 'ignore' }).status === 0;
const skip = haveYaml ? undefined : 'python3-yaml is not installed (apt-get install python3-yaml)';

describe.skipIf(skip)(`examples/kubernetes/daemonset.yaml${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let docs: any[];
  let ds: any;
  let cm: any;
  beforeAll(() => {
    docs = loadYaml(MANIFEST);
    ds = docs.find((d) => d.kind === 'DaemonSet');
    cm = docs.find((d) => d.kind === 'ConfigMap');
  });

  it('is YAML of the objects it says', () => {
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual(['v1 Namespace', 'v1 ServiceAccount', 'v1 ConfigMap', 'apps/v1 DaemonSet']);
    for (const d of docs.slice(1)) expect(d.metadata.namespace).toBe('knetstat-java');
  });

  it('has only fields of the Kubernetes API, of the right types (and the check catches one that is not)', () => {
    expect(typeErrors(docs, 'manifest')).toBe('');
    // tsc stops at the first error in an object literal: one mistake per copy.
    const misspelt = structuredClone(docs);
    misspelt[3].spec.template.spec.hostPIDs = true;
    expect(typeErrors(misspelt, 'misspelt')).toMatch(/'"hostPIDs"' does not exist in type 'PodSpec'/);
    const mistyped = structuredClone(docs);
    mistyped[3].spec.template.spec.containers[0].securityContext.capabilities.add = 'SYS_PTRACE';
    expect(typeErrors(mistyped, 'mistyped')).toMatch(/Type 'string' is not assignable to type 'string\[\]'/);
  });

  it('passes the API server rules for what it uses', () => {
    const pod = ds.spec.template.spec;
    // The selector must select the template's labels.
    for (const [k, v] of Object.entries(ds.spec.selector.matchLabels)) expect(ds.spec.template.metadata.labels[k]).toBe(v);
    const c = pod.containers[0];
    const sc = c.securityContext;
    // "cannot set allowPrivilegeEscalation to false and capabilities.Add CAP_SYS_ADMIN" (nor with privileged).
    if (sc.capabilities.add.includes('SYS_ADMIN') || sc.privileged) expect(sc.allowPrivilegeEscalation).not.toBe(false);
    // Every mount names a volume; every volume is mounted.
    const vols = pod.volumes.map((v: any) => v.name).sort();
    expect(c.volumeMounts.map((m: any) => m.name).sort()).toEqual(vols);
    expect(c.image).not.toMatch(/:latest$|^[^:]+$/);
  });

  it('asks for what the sources need and nothing else', () => {
    const pod = ds.spec.template.spec;
    const sc = pod.containers[0].securityContext;
    expect(pod.hostPID).toBe(true);
    expect(pod.hostNetwork).toBe(false);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(sc.privileged).toBe(false);
    expect(sc.runAsUser).toBe(0);
    expect(sc.readOnlyRootFilesystem).toBe(true);
    expect(sc.capabilities.drop).toEqual(['ALL']);
    expect(sc.capabilities.add.sort()).toEqual(['DAC_READ_SEARCH', 'SYS_ADMIN', 'SYS_PTRACE']);
    expect(sc.seccompProfile.type).toBe('RuntimeDefault');
    expect(docs[0].metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
    // The executable's private directory: TMPDIR is the writable emptyDir.
    const env = Object.fromEntries(pod.containers[0].env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
    const tmpMount = pod.containers[0].volumeMounts.find((m: any) => m.name === 'tmp');
    expect(env.TMPDIR).toBe(tmpMount.mountPath);
    expect(pod.volumes.find((v: any) => v.name === 'tmp').emptyDir).toBeDefined();
  });

  it("carries a policy the tool accepts, and a script sh accepts, where the container's command finds them", () => {
    const policy = parsePolicy(cm.data['policy.json'], 'policy.json');
    expect(policy.rules.map((r) => r.name)).toHaveLength(3);
    const sh = spawnSync('sh', ['-n'], { input: cm.data['run.sh'], encoding: 'utf8' });
    expect(sh.status, sh.stderr).toBe(0);
    const c = ds.spec.template.spec.containers[0];
    const mount = c.volumeMounts.find((m: any) => m.name === 'config');
    expect(c.command).toEqual(['/bin/sh', `${mount.mountPath}/run.sh`]);
    expect(ds.spec.template.spec.volumes.find((v: any) => v.name === 'config').configMap.name).toBe(cm.metadata.name);
  });
});

const roundSkip = skip ?? (existsSync(EXE) ? undefined : 'no dist/knetstat-java') ?? pidNamespaceUnavailable();
describe.skipIf(roundSkip)('the DaemonSet script, one round on this machine', () => {
  let ns: PidNamespace;
  let jvm: Jvm;
  let work: string;
  let cm: any;
  beforeAll(async () => {
    cm = loadYaml(MANIFEST).find((d) => d.kind === 'ConfigMap');
    work = mkdtempSync(join(tmpdir(), 'exe-k8s-'));
    writeFileSync(join(work, 'policy.json'), cm.data['policy.json']);
    writeFileSync(join(work, 'run.sh'), cm.data['run.sh']);
    // In a private pid namespace, as a pod with hostPID sees its node: every JVM there is ours
    // (not the other tests' JVMs on this machine).
    ns = await pidNamespace();
    jvm = await startJvm('SocketLab', ['l:server', 'c:client:keepAlive=true'], { wrapper: ns.enter });
  });
  afterAll(async () => { await jvm?.stop(); await ns?.close(); rmSync(work, { recursive: true, force: true }); });

  function round(extra: Record<string, string>) {
    const tmp = join(work, 'tmp');
    mkdirSync(tmp, { recursive: true, mode: 0o777 });
    const env = { PATH: process.env.PATH!, NODE_NAME: 'node-a', KNETSTAT_ONCE: '1', KNETSTAT_OUT: join(work, 'out'), KNETSTAT_POLICY: join(work, 'policy.json'), KNETSTAT_TOOL: EXE, TMPDIR: tmp, ...extra };
    mkdirSync(env.KNETSTAT_OUT, { recursive: true });
    return spawnSync(ns.enter[0]!, [...ns.enter.slice(1), 'sh', join(work, 'run.sh')], { env, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  }

  it('writes one JUnit and one JSON file for the node (check --all-jvms), says the exit code, and replaces them next round', () => {
    const r = round({});
    // SocketLab's listener queues 50: "listeners queue 128 or more" fails.
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ node-a: check exit 1\n$/);
    const out = join(work, 'out');
    expect(readdirSync(out).sort()).toEqual(['node-a.json', 'node-a.xml']);
    expect(xmllint(join(out, 'node-a.xml')).code).toBe(0);
    expect(readFileSync(join(out, 'node-a.xml'), 'utf8')).toContain(`name="pid ${jvm.pid} (SocketLab): listeners queue 128 or more"`);
    const json = JSON.parse(readFileSync(join(out, 'node-a.json'), 'utf8'));
    expect(json).toMatchObject({ allJvms: true, status: 'fail', counts: { jvms: 1, failed: 1 } });
    expect(json.jvms[0].result.rules.find((x: any) => x.name === 'listeners queue 128 or more').status).toBe('fail');
    // The script made the kubelet-style 0777 TMPDIR private, and the executable left nothing in it.
    expect(statSync(join(work, 'tmp')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(work, 'tmp'))).toEqual([]);
    writeFileSync(join(out, 'node-a.xml'), 'the last round');
    expect(round({}).status).toBe(1);
    expect(xmllint(join(out, 'node-a.xml')).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['node-a.json', 'node-a.xml']);
  }, 600_000);

  it('prints the JSON to stdout instead with KNETSTAT_OUTPUT=stdout', () => {
    const r = round({ KNETSTAT_OUTPUT: 'stdout' });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('}') + 1)).jvms.map((j: any) => j.pid)).toEqual([jvm.pid]);
  }, 600_000);
});
