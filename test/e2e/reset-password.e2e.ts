// Forgot password end to end: the reset mail really goes out over SMTP (to a loopback server),
// the link opens the reset page, the new password signs in and the old one no longer does.
import { describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import { uniqueEmail } from '../support/factories.ts';
import { setupSmtpCapture } from '../support/smtp.ts';

const smtp = setupSmtpCapture();
const browser = setupBrowser({ env: () => smtp.env() });

describe('resetting a forgotten password', () => {
  it('mails a link that sets a new password, signs in with it, and the old password stops working', async () => {
    const { page } = browser;
    const email = uniqueEmail('forgetful');
    await page.goto('/sign-up');
    await page.getByLabel('Name').fill('Forgetful');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('the old password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');

    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send the reset link' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('If an account exists');

    const link = await smtp.waitForLink(email, /(https?:\/\/\S+\/reset-password\?token=[A-Za-z0-9_-]+)/);
    await page.goto(link);
    await page.getByLabel('New password').fill('the new password!');
    await page.getByLabel('Repeat it').fill('something else');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect.poll(() => page.getByRole('alert').allTextContents()).toContain('The passwords differ');
    await page.getByLabel('Repeat it').fill('the new password!');
    await page.screenshot({ path: 'test-results/e2e-reset-password.png', fullPage: true });
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');

    // The link worked once.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    await page.goto(link);
    await page.getByLabel('New password').fill('a third password');
    await page.getByLabel('Repeat it').fill('a third password');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect
      .poll(async () => (await page.getByRole('alert').allTextContents()).join(' '))
      .toMatch(/invalid|expired/i);

    await page.goto('/sign-in');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('the old password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(async () => (await page.getByRole('alert').allTextContents()).join(' '))
      .toMatch(/email or password/i);
    await page.getByLabel('Password').fill('the new password!');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');
  });
});
