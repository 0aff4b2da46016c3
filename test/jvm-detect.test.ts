// The JVM detector on a running JVM: java.home and version agree with what
// the JVM itself says (System.getProperty). Synthetic layouts: test/unit/jvm.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { inspectProcess } from '../src/discover/process.js';
import { startJvm, type Jvm } from './helpers/jvm.js';

describe('on a running JVM', () => {
  let jvm: Jvm | undefined;
  afterAll(async () => { await jvm?.stop(); });

  it('agrees with the JVM\'s own java.home and java.version', async () => {
    jvm = await startJvm('Probe', [], { timeoutMs: 60000 });
    const p = inspectProcess(jvm.pid);
    expect(p.isJvm).toBe(true);
    expect(p.jvm?.javaHome).toBe(jvm.ready.java.home);
    expect(p.jvm?.version).toBe(jvm.ready.java.version);
    expect(p.jvm?.feature).toBe(jvm.ready.java.feature);
    expect(p.jvm?.mainClass).toBe('Probe');
  }, 90000);
});
