// The app as a whole, page by page: every route opens on a direct visit and on a reload, with its
// own title and no serious accessibility violation (axe-core); the public pages stay within the
// first-load JavaScript budget; a phone gets a real menu and tables that keep their amounts; the
// desktop header fits one row; a skip link, a 404 inside the frame, dialogs with their own ids.
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import {
  demoAdmin,
  firstLoadJavaScript,
  requestLogos,
  seriousViolations,
  settle,
  signIn,
  signUp,
} from '../support/page-checks.ts';

const browser = setupBrowser();
const BUDGET_BYTES = 150 * 1024;
mkdirSync('test-results', { recursive: true });

/** Opens a route directly, then reloads it: same title, nothing serious for axe either time. */
async function visit(page: Page, path: string, title: string | RegExp, shot?: string) {
  for (const how of ['direct visit', 'reload'] as const) {
    if (how === 'direct visit') await page.goto(path);
    else await page.reload();
    await settle(page);
    if (typeof title === 'string')
      expect(await page.title(), `${path} (${how})`).toBe(`${title} · Forgeline`);
    else expect(await page.title(), `${path} (${how})`).toMatch(title);
    expect(await seriousViolations(page), `${path} (${how})`).toEqual([]);
  }
  if (shot) await page.screenshot({ path: `test-results/e2e-${shot}.png`, fullPage: true });
}

const mainNav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

describe('the app, page by page', () => {
  it('keeps the landing and sign-in pages within 150 kB of first-load JavaScript (gzip)', async () => {
    const { page } = browser;
    for (const path of ['/', '/sign-in']) {
      const { bytes, scripts } = await firstLoadJavaScript(page, path);
      console.info(
        `first-load JavaScript of ${path}: ${(bytes / 1024).toFixed(1)} kB gzip in ${scripts.length} files`,
      );
      expect(bytes, `${path}: ${scripts.map((s) => `${s.url} ${s.gzip}`).join(', ')}`).toBeLessThanOrEqual(
        BUDGET_BYTES,
      );
    }
  });

  it('opens every public route on a direct visit and a reload', async () => {
    const { page } = browser;
    await visit(page, '/', 'Logos and AI generation for credits', 'landing');
    await visit(page, '/pricing', 'Pricing', 'public-pricing');
    await visit(page, '/sign-in', 'Sign in to Forgeline');
    await visit(page, '/sign-up', 'Create your account');
    await visit(page, '/forgot-password', 'Reset your password');
    await visit(page, '/reset-password?token=missing', 'Choose a new password');
    await visit(page, '/verify-email', 'Confirm your email');
    await visit(page, '/invitations/accept?token=x', 'Join your team');
    await visit(page, '/no/such/page', 'Page not found');
    // The 404 sits in the public frame, with the way back.
    expect(await page.getByRole('link', { name: 'Back to the home page' }).isVisible()).toBe(true);
    // A page behind sign-in sends a visitor to sign in, and back afterwards.
    await page.goto('/files?deleted=1');
    await page.waitForURL(/\/sign-in\?next=%2Ffiles%3Fdeleted%3D1$/);
    // Buying from the public pricing page asks to sign up first.
    await page.goto('/pricing');
    await page.getByRole('button', { name: 'Buy Builder' }).click();
    await page.waitForURL(/\/sign-up\?next=%2Fpricing$/);
  }, 180_000);

  it('opens every signed-in and admin route on a direct visit and a reload', async () => {
    const { page, app } = browser;
    await signUp(page, 'Route Walker');
    // Something to show: a generation, a project, an organization.
    await requestLogos(page, 'Routebook', 'travel planning');
    await expect
      .poll(() => page.getByTestId('generation-status').first().textContent(), { timeout: 30_000 })
      .toBe('succeeded');
    const generationId = await page.getByTestId('generation').first().getAttribute('data-id');
    await page.goto('/projects');
    await page.getByLabel('Project name').fill('Route project');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('link', { name: 'Route project' }).click();
    await page.waitForURL('**/projects/*');
    const projectPath = new URL(page.url()).pathname;

    await visit(page, '/', 'Dashboard', 'dashboard');
    // The breakdown adds up to the headline; the usage chart counts the four logos.
    expect(await page.getByTestId('balance').textContent()).toBe('96 credits');
    expect(await page.getByRole('list', { name: 'How the balance adds up' }).textContent()).toBe(
      'Given:100+Bought:0−Spent:4+Refunded:0=Balance:96',
    );
    expect(await page.getByTestId('usage').textContent()).toContain(
      '4 credits spent in the last 30 days (4 charged, 0 refunded)',
    );
    expect(await page.getByRole('table', { name: 'Usage by operation' }).textContent()).toContain(
      'Logo generation',
    );
    await visit(page, '/generate', 'Logo generator');
    await visit(page, '/history', 'History', 'history');
    await visit(page, '/history?kind=logo&q=route', 'History');
    await visit(page, `/history/${generationId}`, 'Routebook', 'generation');
    await visit(page, '/files', 'Files');
    await visit(page, '/files?deleted=1', 'Files');
    await visit(page, '/pricing', 'Pricing');
    await visit(page, '/billing', 'Billing');
    await visit(page, '/projects', 'Projects');
    await visit(page, projectPath, 'Route project');
    await visit(page, '/orgs', 'Teams');
    await visit(page, '/settings', 'Settings');
    await visit(page, '/settings/api-keys', 'API keys');
    await visit(page, '/nope', 'Page not found');
    // The 404 is inside the app frame: the navigation is still there.
    expect(await mainNav(page).getByRole('link', { name: 'Dashboard' }).isVisible()).toBe(true);

    const admin = demoAdmin(app.output());
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    await signIn(page, admin.email, admin.password);
    await visit(page, '/admin', 'Overview', 'admin-overview');
    await visit(page, '/admin/users', 'Users');
    await page.getByRole('link', { name: admin.email }).click();
    await page.waitForURL('**/admin/users/*');
    await visit(page, new URL(page.url()).pathname, 'Forgeline Admin');
    await visit(page, '/admin/catalog', 'Catalog', 'admin-catalog');
    await expect
      .poll(() => page.getByRole('table', { name: 'Feature cost versions' }).textContent())
      .toContain('in force');
    await visit(page, '/admin/audit', 'Audit log');
    await visit(page, '/admin/system', 'System');

    // At 1280 px the whole header, admin link included, is one row.
    const header = await page.locator('header').first().boundingBox();
    expect(header?.height).toBeLessThanOrEqual(64);
    expect(await mainNav(page).getByRole('link').count()).toBe(10);
  }, 300_000);

  it('on a phone: a real menu, tables keep their amounts, admin pages fit the screen', async () => {
    const { page, app } = browser;
    await page.setViewportSize({ width: 390, height: 844 });
    await signUp(page, 'Phone User');
    const fits = () => page.evaluate(() => document.documentElement.scrollWidth);

    // The navigation is behind a menu button, and the menu is a list of links.
    expect(await mainNav(page).count()).toBe(0);
    const menu = page.getByRole('button', { name: 'Menu' });
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    await menu.click();
    await expect.poll(() => menu.getAttribute('aria-expanded')).toBe('true');
    await page.screenshot({ path: 'test-results/e2e-phone-menu.png' });
    expect(await seriousViolations(page)).toEqual([]);
    await mainNav(page).getByRole('link', { name: 'History' }).click();
    await page.waitForURL('**/history');
    // Following a link closes the menu; Escape closes it too.
    await expect.poll(() => mainNav(page).count()).toBe(0);
    await menu.click();
    await page.keyboard.press('Escape');
    await expect.poll(() => menu.getAttribute('aria-expanded')).toBe('false');

    // The transactions table keeps its Amount column inside the screen.
    await page.goto('/');
    await settle(page);
    const amount = await page
      .getByTestId('transactions')
      .getByRole('columnheader', { name: 'Amount' })
      .boundingBox();
    expect(amount && amount.x + amount.width).toBeLessThanOrEqual(390);
    expect(await page.getByTestId('transactions').getByRole('cell', { name: '+100' }).isVisible()).toBe(true);
    expect(await fits()).toBeLessThanOrEqual(390);
    await page.screenshot({ path: 'test-results/e2e-phone-dashboard.png', fullPage: true });
    for (const path of ['/history', '/files', '/pricing', '/billing', '/orgs', '/projects', '/settings']) {
      await page.goto(path);
      await settle(page);
      expect(await fits(), path).toBeLessThanOrEqual(390);
    }

    const admin = demoAdmin(app.output());
    await menu.click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    await signIn(page, admin.email, admin.password);
    for (const path of ['/admin', '/admin/users', '/admin/catalog', '/admin/audit', '/admin/system']) {
      await page.goto(path);
      await settle(page);
      expect(await fits(), path).toBeLessThanOrEqual(390);
    }
    await page.screenshot({ path: 'test-results/e2e-phone-admin-system.png', fullPage: true });
  }, 180_000);

  it('has a skip link to the content, and every dialog named by its own ids', async () => {
    const { page } = browser;
    await signUp(page, 'Keyboard User');
    await requestLogos(page, 'Keyline', 'music podcasts', 3);
    await expect.poll(() => page.getByTestId('generated-image').count(), { timeout: 30_000 }).toBe(3);

    await page.goto('/files');
    await settle(page);
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    expect(await skip.evaluate((link) => link === document.activeElement)).toBe(true);
    expect(await skip.isVisible()).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');

    // Three files, three delete dialogs: each labelled and described by ids no other element has.
    const labels = await page
      .locator('dialog')
      .evaluateAll((dialogs) =>
        dialogs.map((dialog) => [
          dialog.getAttribute('aria-labelledby'),
          dialog.getAttribute('aria-describedby'),
        ]),
      );
    expect(labels).toHaveLength(3);
    const ids = labels.flat();
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(await page.locator(`[id="${id}"]`).count()).toBe(1);
    await page.getByRole('button', { name: /^Delete keyline-2\.svg$/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete keyline-2.svg?' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.getByTestId('file').count()).toBe(3);
  });
});
