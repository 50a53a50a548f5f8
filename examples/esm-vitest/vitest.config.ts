import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globals: true,
    root: './',
    include: ['**/*.spec.ts'],
    // A fresh SQLite file for the run, migrated before any test file starts.
    globalSetup: ['./test/global-setup.ts'],
    env: { DATABASE_URL: 'file:./test.db' },
    // Test files share that file: one at a time.
    fileParallelism: false,
  },
});
