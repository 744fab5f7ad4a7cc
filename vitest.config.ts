import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Stops at once, naming the one install command, when Chromium or the Python references are missing.
    globalSetup: ['tests/setup/prerequisites.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more workers only thrash. Files still run in parallel in two forks.
    pool: 'forks',
    maxWorkers: 2,
  },
});
