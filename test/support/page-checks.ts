// What the browser tests check on every page: it settled (no skeleton left), it has no serious or
// critical accessibility violations (axe-core, injected into the page), and how much JavaScript
// it loaded (gzip sizes of the built assets it fetched).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { uniqueEmail } from './factories.ts';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Waits until the page's data arrived: no request in flight, no loading placeholder left. */
export async function settle(page: Page) {
  await page.waitForLoadState('networkidle');
  await expect
    .poll(() => page.locator('[role="status"][aria-label^="Loading"], [aria-busy="true"]').count())
    .toBe(0);
}

type AxeResult = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] };

/** Serious and critical axe violations of the page as it is now, one line each. */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's CSP (no inline scripts) does not apply.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(
    async () =>
      (await (window as unknown as { axe: { run(): Promise<{ violations: AxeResult[] }> } }).axe.run())
        .violations,
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Opens `path` in a fresh load and sums the gzip size of every script it fetched. */
export async function firstLoadJavaScript(page: Page, path: string) {
  const scripts: { url: string; gzip: number }[] = [];
  const pending: Promise<void>[] = [];
  const onResponse = (response: import('playwright-core').Response) => {
    if (response.request().resourceType() !== 'script') return;
    pending.push(
      response.body().then((body) => {
        scripts.push({ url: new URL(response.url()).pathname, gzip: gzipSync(body, { level: 9 }).length });
      }),
    );
  };
  page.on('response', onResponse);
  await page.goto(path);
  await settle(page);
  await Promise.all(pending);
  page.off('response', onResponse);
  return { bytes: scripts.reduce((sum, s) => sum + s.gzip, 0), scripts };
}

export async function signUp(page: Page, name = 'Tester', email = uniqueEmail('e2e')) {
  await page.goto('/sign-up');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect.poll(() => page.getByTestId('balance').isVisible()).toBe(true);
  return email;
}

export async function signIn(page: Page, email: string, password = 'correct horse battery') {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.getByTestId('balance').isVisible()).toBe(true);
}

/** Asks for logos on /generate (the caller waits for what it needs: a status, the images, a job). */
export async function requestLogos(page: Page, appName: string, about: string, count?: number) {
  await page.goto('/generate');
  await page.getByLabel('App name').fill(appName);
  await page.getByLabel('What is it about?').fill(about);
  if (count !== undefined) await page.getByLabel('How many logos?').selectOption(String(count));
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
}

export function demoAdmin(output: string) {
  const [, email = '', password = ''] =
    /Demo admin account \(shown once\): (\S+) \/ (\S+)/.exec(output) ?? [];
  expect(email).toContain('@');
  return { email, password };
}
