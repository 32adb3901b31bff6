import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Suites load the native addon: forks, not threads (vitest PR #5047).
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The default output, then the list of tests skipped for a missing independent reader.
    reporters: ['default', './test/helpers/skip-reporter.ts'],
  },
});
