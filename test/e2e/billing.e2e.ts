// Buying through the dev checkout (no payment provider configured): the purchase goes through the
// signed Stripe webhook path, and the balance and payment history update.
import { describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import { uniqueEmail } from '../support/factories.ts';

const browser = setupBrowser();
const nav = (name: string) =>
  browser.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

async function signUp() {
  const { page } = browser;
  await page.goto('/sign-up');
  await page.getByLabel('Name').fill('Buyer');
  await page.getByLabel('Email').fill(uniqueEmail('buyer'));
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');
}

describe('billing in the browser', () => {
  it('buys a credit package through the dev checkout and sees the balance rise', async () => {
    const { page } = browser;
    await signUp();
    await nav('Pricing').click();
    await page.getByRole('button', { name: 'Buy Builder' }).click();
    await page.waitForURL('**/billing/checkout?token=*');
    await expect.poll(() => page.getByText('Development checkout').isVisible()).toBe(true);
    await page.screenshot({ path: 'test-results/e2e-dev-checkout.png', fullPage: true });
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.waitForURL('**/billing?checkout=success');
    await expect.poll(() => page.getByTestId('payments').textContent()).toContain('Builder');
    await expect.poll(() => page.getByText('600 credits').first().isVisible()).toBe(true);
    await page.screenshot({ path: 'test-results/e2e-billing.png', fullPage: true });
  });

  it('subscribes to Pro, sees the expiring grant, cancels and resumes', async () => {
    const { page } = browser;
    await signUp();
    await nav('Pricing').click();
    await page.getByTestId('plan-pro').getByRole('button', { name: 'Choose Pro' }).click();
    await page.waitForURL('**/billing/checkout?token=*');
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.waitForURL('**/billing?checkout=success');
    await expect.poll(() => page.getByTestId('subscription').textContent()).toContain('Pro');
    await expect.poll(() => page.getByTestId('grants').textContent()).toContain('2,500 credits');
    await page.getByRole('button', { name: 'Cancel subscription' }).click();
    await page.getByRole('button', { name: 'Cancel at period end' }).click();
    await expect.poll(() => page.getByTestId('renewal').textContent()).toMatch(/^Ends on/);
    await page.getByRole('button', { name: 'Resume subscription' }).click();
    await expect.poll(() => page.getByTestId('renewal').textContent()).toMatch(/^Renews on/);
    await page.goto('/pricing');
    await expect.poll(() => page.getByTestId('plan-pro').isVisible()).toBe(true);
    await page.screenshot({ path: 'test-results/e2e-pricing.png', fullPage: true });
  });
});
