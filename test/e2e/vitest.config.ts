// `npm run test:e2e`: browser tests against the real app (see test/support/browser.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    globalSetup: ['test/e2e/build-client.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // A page waits on a real server (argon2, the job queue): give each expect.poll 10 s, not 1.
    expect: { poll: { timeout: 10_000, interval: 100 } },
  },
});
