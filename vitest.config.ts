import { configDefaults, defineConfig } from 'vitest/config';

// Tests start real JVMs: generous timeouts, two workers for two cores.
// test/host-global/ changes host-wide state other tests see (a cgroup v1
// net_cls mount makes every pidfd read refuse): it runs alone, after the rest.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/host-global/**'] } },
      { extends: true, test: { name: 'host-global', include: ['test/host-global/**/*.test.ts'], sequence: { groupOrder: 1 }, maxWorkers: 1 } },
    ],
  },
});
