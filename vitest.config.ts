import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      '@hunch/core': fileURLToPath(new URL('./packages/core/src/index.ts', import.meta.url)),
      '@hunch/collector': fileURLToPath(new URL('./packages/collector/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Browser tests launch Chromium and train models: two at once is all 2 cores take.
    maxWorkers: 2,
  },
});
