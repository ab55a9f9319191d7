// A visitor comes from the landing page, signs up, sees the sign-up bonus, signs out, and signs in again.
import { describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import { uniqueEmail } from '../support/factories.ts';

const browser = setupBrowser();

describe('an account in the browser', () => {
  it('signs up, sees 100 credits, signs out and signs in again', async () => {
    const { page } = browser;
    const email = uniqueEmail('e2e');
    // The landing page leads to sign-up.
    await page.goto('/');
    await page.getByRole('link', { name: 'Get started' }).click();
    await page.waitForURL('**/sign-up');
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();

    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');
    await expect.poll(() => page.getByTestId('transactions').textContent()).toContain('Signup bonus');
    await page.screenshot({ path: 'test-results/e2e-dashboard.png', fullPage: true });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');
  });

  it('shows validation and server errors at the field that caused them', async () => {
    const { page } = browser;
    const email = uniqueEmail('taken');
    await page.goto('/sign-up');
    // Client-side: the shared zod schema.
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByRole('alert').allTextContents()).toContain('Tell us your name');

    await page.getByLabel('Name').fill('First');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');

    // Server-side: CONFLICT on the email field.
    await page.goto('/sign-up');
    await page.getByLabel('Name').fill('Second');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('another long password');
    await page.getByRole('button', { name: 'Create account' }).click();
    const emailError = page.getByLabel('Email');
    await expect.poll(() => emailError.getAttribute('aria-invalid')).toBe('true');
    await expect
      .poll(() => page.getByRole('alert').allTextContents())
      .toContain('This email is already registered');

    // A wrong password says so without telling which part was wrong.
    await page.goto('/sign-in');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(async () => (await page.getByRole('alert').allTextContents()).join(' '))
      .toMatch(/email or password/i);
  });
});
