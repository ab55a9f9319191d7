// Billing in the browser through the dev checkout: the purchase goes through the signed Stripe
// webhook path, and the balance and payment history update; a subscriber sees their plan as
// current and changes plan (upgrade now, downgrade at period end) instead of buying a second one.
// The dev checkout exists only outside production, so this app runs with NODE_ENV=development
// (the same built client and server otherwise).
import { describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import { uniqueEmail } from '../support/factories.ts';

const browser = setupBrowser({ env: () => ({ NODE_ENV: 'development' }) });
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

async function subscribe(plan: 'basic' | 'pro', label: string) {
  const { page } = browser;
  await nav('Pricing').click();
  await page.getByTestId(`plan-${plan}`).getByRole('button', { name: label }).click();
  await page.waitForURL('**/billing/checkout?token=*');
  await page.getByRole('button', { name: /^Pay / }).click();
  await page.waitForURL('**/billing?checkout=success');
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
    await expect.poll(() => page.getByTestId('payments').textContent()).toContain('Builder — 500 credits');
    await expect.poll(() => page.getByText('600 credits').first().isVisible()).toBe(true);
    await page.screenshot({ path: 'test-results/e2e-billing.png', fullPage: true });
  });

  it('subscribes to Pro, sees the expiring grant, cancels and resumes', async () => {
    const { page } = browser;
    await signUp();
    await subscribe('pro', 'Choose Pro');
    await expect.poll(() => page.getByTestId('subscription').textContent()).toContain('Pro');
    await expect.poll(() => page.getByTestId('grants').textContent()).toContain('2,500 credits');
    await page.getByRole('button', { name: 'Cancel subscription' }).click();
    await page.getByRole('button', { name: 'Cancel at period end' }).click();
    await expect.poll(() => page.getByTestId('renewal').textContent()).toMatch(/^Ends on/);
    await page.getByRole('button', { name: 'Resume subscription' }).click();
    await expect.poll(() => page.getByTestId('renewal').textContent()).toMatch(/^Renews on/);
  });

  it('changes plan: Basic is current, Pro is an upgrade now, and Basic again waits for the period end', async () => {
    const { page } = browser;
    await signUp();
    await subscribe('basic', 'Choose Basic');
    await expect.poll(() => page.getByTestId('subscription').textContent()).toContain('Basic');

    await nav('Pricing').click();
    const basic = page.getByTestId('plan-basic');
    const pro = page.getByTestId('plan-pro');
    await expect.poll(() => basic.textContent()).toContain('Your plan');
    await expect.poll(() => basic.getByRole('button', { name: 'Current plan' }).isDisabled()).toBe(true);
    // No "buy" on the other plans: a change of the one subscription.
    expect(await pro.getByRole('button', { name: 'Choose Pro' }).count()).toBe(0);
    await pro.getByRole('button', { name: 'Change to Pro' }).click();
    await expect.poll(() => page.getByRole('dialog').textContent()).toContain('prorated difference');
    await page.screenshot({ path: 'test-results/e2e-change-plan.png', fullPage: true });
    await page.getByRole('button', { name: 'Upgrade to Pro' }).click();
    await page.waitForURL('**/billing?plan=upgraded');
    await expect.poll(() => page.getByTestId('subscription').textContent()).toContain('Pro');
    // 100 sign-up + 500 Basic + the 2,000 difference for the rest of the period.
    await expect.poll(() => page.getByText('2,600 credits').first().isVisible()).toBe(true);
    await expect.poll(() => page.getByTestId('payments').textContent()).toContain('change of plan');

    await nav('Pricing').click();
    await expect.poll(() => pro.textContent()).toContain('Your plan');
    await basic.getByRole('button', { name: 'Change to Basic' }).click();
    await page.getByRole('button', { name: /^Switch at / }).click();
    await page.waitForURL('**/billing?plan=downgrade_scheduled');
    await expect
      .poll(() => page.getByTestId('scheduled-change').textContent())
      .toContain('Switches to Basic on');
    await nav('Pricing').click();
    await pro.getByRole('button', { name: 'Keep Pro' }).click();
    await expect.poll(() => page.getByTestId('scheduled-change').count()).toBe(0);
    await page.screenshot({ path: 'test-results/e2e-pricing.png', fullPage: true });
  });
});
