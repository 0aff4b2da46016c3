import { defineConfig } from 'vitest/config';

// Three suites. unit: pure code on recorded samples (test/unit/), no JVM, no
// root-only syscall, seconds: `npm run test:unit`. jvm: real JVMs, strace,
// namespaces (test/*.test.ts): generous timeouts, two workers for two cores.
// host-global: tests that change host-wide state the others would see (a
// cgroup v1 net_cls mount makes every pidfd read refuse): alone, one worker,
// after the other two have finished. `npm test` runs all three.
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 },
      },
      {
        test: { name: 'jvm', include: ['test/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
      },
      {
        test: {
          name: 'host-global',
          include: ['test/host-global/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
          maxWorkers: 1,
        },
      },
    ],
  },
});
