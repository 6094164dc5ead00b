import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/vitestGlobalSetup.ts'],
    // A worker whose run was killed exits, and the processes its files started go with it.
    setupFiles: ['test/support/exitWithRun.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each integration file owns one browser; two files at once fit the 2-core machine.
    maxWorkers: 2,
  },
});
