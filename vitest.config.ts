import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more workers only thrash. Files still run in parallel in two forks.
    pool: 'forks',
    maxWorkers: 2,
  },
});
