// An administrator finds a user by part of their email, adjusts their credits with a reason, and
// the user sees it in their own ledger.
import { describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import { uniqueEmail } from '../support/factories.ts';

const browser = setupBrowser();

describe('the admin area in the browser', () => {
  it('finds a user by partial email and adjusts their credits; the user sees it', async () => {
    const { page, app } = browser;
    const [, adminEmail = '', adminPassword = ''] =
      /Demo admin account \(shown once\): (\S+) \/ (\S+)/.exec(app.output()) ?? [];
    expect(adminEmail).toContain('@');

    const email = uniqueEmail('customer');
    await page.goto('/sign-up');
    await page.getByLabel('Name').fill('Customer');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');

    await page.getByLabel('Email').fill(adminEmail);
    await page.getByLabel('Password').fill(adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await expect.poll(() => page.getByText('Credits granted', { exact: true }).isVisible()).toBe(true);
    await page.screenshot({ path: 'test-results/e2e-admin-overview.png', fullPage: true });
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('Search users').fill(email.split('@')[0]?.slice(0, 14).toUpperCase() ?? '');
    await expect
      .poll(() => page.getByTestId('admin-users').getByRole('link').allTextContents())
      .toEqual([email]);
    await page.getByRole('link', { name: email }).click();
    await page.getByLabel('Credits (negative to take away)').fill('25');
    await page.getByLabel('Reason', { exact: true }).fill('Support goodwill');
    await page.getByRole('button', { name: 'Adjust credits' }).click();
    await expect.poll(() => page.getByTestId('admin-balance').textContent()).toBe('125');
    await expect.poll(() => page.getByTestId('admin-ledger').textContent()).toContain('Support goodwill');
    await page.screenshot({ path: 'test-results/e2e-admin-user.png', fullPage: true });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('125 credits');
    await expect.poll(() => page.getByTestId('transactions').textContent()).toContain('Support goodwill');
  });
});
