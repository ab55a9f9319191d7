// The dashboard's monthly statement (downloaded as CSV that adds up to the closing balance) and the
// Billing page's auto top-up: off without a saved card, on after a dev-checkout purchase, and a
// threshold above the balance buys the package at the worker's next sweep, shown on the page.
// The dev checkout exists only outside production, so this app runs with NODE_ENV=development.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import { uniqueEmail } from '../support/factories.ts';

const browser = setupBrowser({ env: () => ({ NODE_ENV: 'development' }) });
const nav = (name: string) =>
  browser.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

async function downloadStatement() {
  const { page } = browser;
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`credits-statement-${new Date().toISOString().slice(0, 7)}.csv`);
  const path = await download.path();
  return (await readFile(path, 'utf8')).trimEnd().split('\r\n');
}

describe('statements and auto top-up in the browser', () => {
  it('downloads the month’s statement, then turns on auto top-up and sees it buy', async () => {
    const { page } = browser;
    await page.goto('/sign-up');
    await page.getByLabel('Name').fill('Ledger');
    await page.getByLabel('Email').fill(uniqueEmail('ledger'));
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');

    // The statement: the sign-up bonus, closing at the balance.
    await expect.poll(() => page.getByTestId('statement-closing').textContent()).toBe('100 credits');
    expect(await page.getByTestId('statement').textContent()).toContain('Sign-up bonus');
    const rows = await downloadStatement();
    expect(rows[0]).toBe('Row,Section,Item,Transactions,Credits');
    expect(rows).toContain('line,Grants,Sign-up bonus,1,100');
    expect(rows.at(-1)).toMatch(/^closing,,Closing balance on \d{4}-\d{2}-\d{2} \(UTC\),,100$/);

    // No card yet: auto top-up says why and cannot be turned on.
    await nav('Billing').click();
    const card = page.getByTestId('auto-top-up');
    await expect.poll(() => card.textContent()).toContain('charges a saved card');
    await card.getByRole('button', { name: 'Save auto top-up' }).click();
    await expect.poll(() => card.getByRole('alert').first().textContent()).toContain('there is none yet');

    // A dev-checkout purchase saves the (dev) card.
    await nav('Pricing').click();
    await page.getByRole('button', { name: 'Buy Builder' }).click();
    await page.waitForURL('**/billing/checkout?token=*');
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.waitForURL('**/billing?checkout=success');
    await expect.poll(() => page.getByText('600 credits').first().isVisible()).toBe(true);

    // Below 700 credits, buy Starter: the balance (600) is already below, so the sweep buys it.
    await page.getByLabel('When my balance falls below (credits)').fill('700');
    const pick = page.getByLabel('Buy', { exact: true });
    const starter = await pick.locator('option', { hasText: 'Starter' }).getAttribute('value');
    await pick.selectOption(starter as string);
    await card.getByRole('button', { name: 'Save auto top-up' }).click();
    await expect.poll(() => card.textContent()).toContain('Saved.');
    await page.reload();
    await expect
      .poll(() => page.getByTestId('auto-top-ups').textContent(), { timeout: 30_000 })
      .toContain('Succeeded');
    await expect
      .poll(() => page.getByTestId('payments').textContent())
      .toContain('Starter (auto top-up) — 100 credits');
    await expect.poll(() => page.getByText('700 credits').first().isVisible()).toBe(true);
    await page.screenshot({ path: 'test-results/e2e-auto-top-up.png', fullPage: true });

    // The statement lists both purchases and closes at 700.
    await nav('Dashboard').click();
    await expect.poll(() => page.getByTestId('statement-closing').textContent()).toBe('700 credits');
    const after = await downloadStatement();
    expect(after).toContain('line,Purchases,Purchases,2,600');
    await page.screenshot({ path: 'test-results/e2e-statement.png', fullPage: true });
  }, 120_000);
});
