// Builds the client once before the browser tests, so they never run against a stale dist/.
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export default async function setup() {
  await build({
    configFile: fileURLToPath(new URL('../../client/vite.config.ts', import.meta.url)),
    logLevel: 'warn',
  });
}
