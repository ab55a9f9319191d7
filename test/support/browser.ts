// Browser tests drive the real thing: `node server/main.ts` (production mode, its own embedded
// PostgreSQL in a temp dir, built client) and Debian's Chromium through playwright-core.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { makeTempDir } from '../../server/db/embedded-postgres.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const START_TIMEOUT_MS = 120_000;

export type RunningApp = { url: string; output: () => string; stop(): Promise<void> };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The machine's own non-loopback IPv4 address (what a phone on the LAN would type). */
export function lanAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  throw new Error('This machine has no non-loopback IPv4 address');
}

export type AppAddress = 'loopback' | 'lan';

/**
 * Starts the app as `npm start` would, on a fresh data dir; resolves once it prints its URL.
 * `lan`: listening on every interface and reached over plain http at the machine's LAN address.
 */
export async function startApp(
  env: Record<string, string> = {},
  address: AppAddress = 'loopback',
): Promise<RunningApp> {
  const dataDir = makeTempDir('forgeline-e2e-');
  const port = await freePort();
  const url = `http://${address === 'lan' ? lanAddress() : '127.0.0.1'}:${port}`;
  const child: ChildProcess = spawn(process.execPath, ['server/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      HOST: address === 'lan' ? '0.0.0.0' : '127.0.0.1',
      PUBLIC_URL: url,
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`The app did not start within ${START_TIMEOUT_MS} ms:\n${output}`)),
      START_TIMEOUT_MS,
    );
    const onData = () => {
      if (output.includes('Forgeline is running at')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`The app exited (${code}) before it started:\n${output}`));
    });
  });

  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const code = await Promise.race([
          exited,
          new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000)),
        ]);
        if (code === 'timeout') child.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

export type BrowserFixture = { app: RunningApp; page: Page; context: BrowserContext };

/**
 * One app and one browser per test file; a fresh browser context (no cookies) per test. A console
 * error or an uncaught exception in the page fails the test.
 */
export function setupBrowser(
  options: { env?: () => Record<string, string>; address?: AppAddress } = {},
): BrowserFixture {
  const fixture = {} as BrowserFixture;
  let browser: Browser;
  let pageErrors: string[] = [];
  beforeAll(async () => {
    [fixture.app, browser] = await Promise.all([startApp(options.env?.(), options.address), launchBrowser()]);
  }, START_TIMEOUT_MS + 10_000);
  afterAll(async () => {
    await browser?.close();
    await fixture.app?.stop();
  }, 60_000);
  beforeEach(async () => {
    pageErrors = [];
    fixture.context = await browser.newContext({
      baseURL: fixture.app.url,
      viewport: { width: 1280, height: 900 },
    });
    fixture.page = await fixture.context.newPage();
    fixture.page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    fixture.page.on('console', (message) => {
      // The browser itself logs every 4xx response ("Failed to load resource"); the tests expect
      // some (a wrong password is a 401). Anything else the app logs is a defect.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        pageErrors.push(`console: ${message.text()}`);
      }
    });
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') {
      await fixture.page
        .screenshot({
          path: `test-results/e2e-${context.task.name.replace(/\W+/g, '-')}.png`,
          fullPage: true,
        })
        .catch(() => {});
    }
    await fixture.context.close();
    expect(pageErrors, 'errors in the page').toEqual([]);
  });
  return fixture;
}
