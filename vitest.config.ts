import { defineConfig } from 'vitest/config';

// Two suites. unit: pure code on recorded samples (test/unit/), no JVM, no
// root-only syscall, seconds: `npm run test:unit`. jvm: real JVMs, strace,
// namespaces (test/*.test.ts): generous timeouts, two workers for two cores.
// `npm test` runs both.
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
    ],
  },
});
