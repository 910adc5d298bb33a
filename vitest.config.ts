import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/polyfills.ts'],
    globalSetup: ['test/setup/global-redis.ts', 'test/setup/global-postgres.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // 2-core machines: integration tests spawn workers and ORT threads of their own.
    maxWorkers: 2,
  },
});
