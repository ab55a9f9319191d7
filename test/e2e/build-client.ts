// Builds the client once before the browser tests, so they never run against a stale dist/.
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export default async function setup() {
  // Vitest runs with NODE_ENV=test, which would make Vite bundle React's development build: the
  // browser tests must run (and measure) what `npm run build` ships.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: fileURLToPath(new URL('../../client/vite.config.ts', import.meta.url)),
      mode: 'production',
      logLevel: 'warn',
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}
