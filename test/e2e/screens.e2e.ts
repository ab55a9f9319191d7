// The busiest pages with real data on them, at a desktop width (1280) and a phone width (390): each
// fits the screen (no horizontal scroll of the page: wide tables scroll inside their card), has no
// serious accessibility violation, and leaves a screenshot in test-results/ to look at. The dev
// checkout (a saved card for auto top-up) exists only outside production: NODE_ENV=development.
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import {
  demoAdmin,
  requestLogos,
  seriousViolations,
  settle,
  signIn,
  signUp,
} from '../support/page-checks.ts';

const browser = setupBrowser({ env: () => ({ NODE_ENV: 'development' }) });
mkdirSync('test-results', { recursive: true });

const WIDTHS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** Opens `path` at both widths: no page-wide horizontal scroll, nothing serious for axe, a screenshot. */
async function checkAtBothWidths(page: Page, path: string, shot: string) {
  for (const size of WIDTHS) {
    await page.setViewportSize({ width: size.width, height: size.height });
    await page.goto(path);
    await settle(page);
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      // The widest elements past the right edge, to say what overflows when something does.
      const culprits = [...document.querySelectorAll('body *')]
        .filter((node) => node.getBoundingClientRect().right > width + 1)
        .slice(0, 5)
        .map((node) => `${node.tagName.toLowerCase()}.${String(node.className).slice(0, 60)}`);
      return { scrollWidth: document.documentElement.scrollWidth, culprits };
    });
    expect(
      overflow.scrollWidth,
      `${path} at ${size.width}: ${overflow.culprits.join(' | ')}`,
    ).toBeLessThanOrEqual(size.width);
    expect(await seriousViolations(page), `${path} at ${size.width}`).toEqual([]);
    await page.screenshot({ path: `test-results/screen-${shot}-${size.name}.png`, fullPage: true });
  }
}

describe('the busiest pages at desktop and phone widths', () => {
  it('dashboard, billing, API keys, admin catalog and admin user fit 1280 and 390 px', async () => {
    const { page, app } = browser;
    const email = await signUp(page, 'Screen Tester With A Rather Long Name');

    // Spending and a purchase for the ledger, the statement and the auto top-up card.
    await requestLogos(page, 'Widthwise', 'responsive layouts');
    await expect
      .poll(() => page.getByTestId('generation-status').first().textContent(), { timeout: 30_000 })
      .toBe('succeeded');
    await page.goto('/pricing');
    await page.getByRole('button', { name: 'Buy Builder' }).click();
    await page.waitForURL('**/billing/checkout?token=*');
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.waitForURL('**/billing?checkout=success');

    // An API key with a daily budget.
    await page.goto('/settings/api-keys');
    await settle(page);
    await page.getByLabel('Name').fill('Nightly build pipeline for the marketing site');
    await page.getByLabel(/generations:write/).check();
    await page.getByLabel('Daily credit budget (optional)').fill('250');
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect.poll(() => page.getByLabel('API key secret').inputValue()).toMatch(/^fl_/);
    await page.getByRole('button', { name: 'Done' }).click();

    await checkAtBothWidths(page, '/', 'dashboard');
    await checkAtBothWidths(page, '/billing', 'billing');
    await checkAtBothWidths(page, '/settings/api-keys', 'api-keys');

    // The admin: a scheduled feature-cost version, a manual adjustment on the user's ledger.
    const admin = demoAdmin(app.output());
    await page.context().clearCookies();
    await signIn(page, admin.email, admin.password);
    await page.goto('/admin/catalog');
    await settle(page);
    const inAMonth = new Date(Date.now() + 30 * 86_400_000);
    await page
      .getByLabel('New costs take effect (optional)')
      .fill(`${inAMonth.toISOString().slice(0, 10)}T09:00`);
    await page.getByLabel('Logo generation (credits per output)').fill('2');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.getByTestId('next-price-version').isVisible()).toBe(true);
    await page.goto('/admin/users');
    await page.getByLabel('Search users').fill(email);
    await page.getByRole('link', { name: email }).click();
    await page.waitForURL('**/admin/users/*');
    const userPath = new URL(page.url()).pathname;
    await page.getByLabel('Credits (negative to take away)').fill('1250');
    await page.getByLabel('Reason', { exact: true }).fill('Goodwill after the outage on the EU cluster');
    await page.getByRole('button', { name: 'Adjust credits' }).click();
    await expect.poll(() => page.getByTestId('admin-ledger').textContent()).toContain('Goodwill');

    await checkAtBothWidths(page, '/admin/catalog', 'admin-catalog');
    // On the phone (the last width) the feature-cost history is a list of short blocks, not a
    // table to scroll sideways.
    const history = page.getByRole('list', { name: 'Feature cost versions' });
    expect(await history.textContent()).toMatch(/scheduled[\s\S]*in force/);
    expect(await history.textContent()).toContain('Logo 2');
    expect(await page.getByRole('table', { name: 'Feature cost versions' }).count()).toBe(0);
    await checkAtBothWidths(page, userPath, 'admin-user');
  }, 300_000);
});
