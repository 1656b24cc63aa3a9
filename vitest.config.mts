import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Native work is parallel inside each call; running test files one at a time keeps timing
    // tests (event-loop lag, RSS) honest on a 2-core machine.
    fileParallelism: false,
    reporters: ['default'],
  },
});
