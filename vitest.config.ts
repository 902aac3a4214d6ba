import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The addon is loaded per test file; forks keep one OpenMP team per process.
    pool: 'forks',
    testTimeout: 60_000,
  },
});
