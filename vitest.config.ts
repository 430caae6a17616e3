import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // e2e suites bind real sockets and spawn SIPp; files run in parallel on the 2 cores, tests inside a file in order
    pool: 'forks',
    maxWorkers: 2,
  },
});
