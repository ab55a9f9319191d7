// The app over plain http at the machine's LAN address (as a phone or a colleague would open a dev
// box): the page must load its assets from where it is, so the CSP may not upgrade them to https.
import { describe, expect, it } from 'vitest';
import { lanAddress, setupBrowser } from '../support/browser.ts';
import { uniqueEmail } from '../support/factories.ts';

const browser = setupBrowser({ address: 'lan' });

describe('plain http on a LAN address', () => {
  it('loads the app, signs up and shows the balance', async () => {
    const { page, app } = browser;
    expect(new URL(app.url).hostname).toBe(lanAddress());
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(request.url()));
    const response = await page.goto('/');
    // The landing page (signed out) leads to sign-up.
    await page.getByRole('link', { name: 'Get started' }).click();
    await page.waitForURL('**/sign-up');
    await page.getByLabel('Name').fill('On the LAN');
    await page.getByLabel('Email').fill(uniqueEmail('lan'));
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');
    expect(failed.filter((url) => url.startsWith('https:'))).toEqual([]);
    expect(response?.headers()['content-security-policy']).not.toContain('upgrade-insecure-requests');
  });
});
