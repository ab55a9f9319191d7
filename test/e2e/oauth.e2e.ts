// "Continue with Google/GitHub" in a real browser: the app (its own process) talks to a real
// OpenID provider (oidc-provider) and a GitHub-speaking server, both on loopback in this process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import { uniqueEmail } from '../support/factories.ts';
import { type FakeGitHub, githubUser, startFakeGitHub } from '../support/fake-github.ts';
import { type FakeGoogle, googleAccount, startFakeGoogle } from '../support/fake-google.ts';

let github: FakeGitHub;
let google: FakeGoogle;
beforeAll(async () => {
  [github, google] = await Promise.all([startFakeGitHub(), startFakeGoogle({ idTokenClaims: 'all' })]);
});
afterAll(async () => {
  await Promise.all([github?.close(), google?.close()]);
});

const browser = setupBrowser({
  env: () => ({
    GITHUB_CLIENT_ID: github.clientId,
    GITHUB_CLIENT_SECRET: github.clientSecret,
    GITHUB_OAUTH_BASE: github.url,
    GITHUB_API_BASE: github.url,
    GOOGLE_CLIENT_ID: google.clientId,
    GOOGLE_CLIENT_SECRET: google.clientSecret,
    GOOGLE_ISSUER: google.url,
  }),
});

// The app's URL is known once it runs: register its callbacks with the providers then.
beforeAll(async () => {
  github.setCallbackUrl(`${browser.app.url}/auth/oauth/github/callback`);
  await google.register(`${browser.app.url}/auth/oauth/google/callback`);
});

describe('signing in with a provider', () => {
  it('continues with Google to the dashboard, with the sign-up bonus, and again after signing out', async () => {
    const { page } = browser;
    google.signIn(googleAccount({ name: 'Grace Hopper' }));
    await page.goto('/sign-in');
    await page.screenshot({ path: 'test-results/e2e-oauth-sign-in.png', fullPage: true });
    await page.getByRole('link', { name: 'Continue with Google' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');
    expect(new URL(page.url()).pathname).toBe('/');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    await page.getByRole('link', { name: 'Continue with Google' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');
  });

  it('continues with GitHub from the sign-up page, then links Google and unlinks GitHub in settings', async () => {
    const { page } = browser;
    const octo = githubUser({ name: 'Octo Cat' });
    github.signIn(octo);
    await page.goto('/sign-up');
    await page.getByRole('link', { name: 'Continue with GitHub' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');

    await page.goto('/settings');
    const methods = page.getByRole('list', { name: 'Sign-in methods' });
    await expect.poll(() => methods.textContent()).toContain(octo.login);
    await expect.poll(() => methods.textContent()).toContain('Your only way to sign in');

    google.signIn(googleAccount());
    await page.getByRole('link', { name: 'Link Google' }).click();
    await page.waitForURL('**/settings?linked=google');
    await expect
      .poll(() => page.getByRole('status').allTextContents())
      .toContain('Google is linked: you can sign in with it.');
    await page.screenshot({ path: 'test-results/e2e-oauth-settings.png', fullPage: true });

    await page.getByRole('button', { name: 'Unlink GitHub' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Unlink' }).click();
    await expect.poll(() => methods.textContent()).not.toContain(octo.login);
    await expect.poll(() => page.getByRole('link', { name: 'Link GitHub' }).count()).toBe(1);
  });

  it('does not link to an account whose email was never verified, and says what to do', async () => {
    const { page } = browser;
    const email = uniqueEmail('e2e-collision');
    await page.goto('/sign-up');
    await page.getByLabel('Name').fill('Password Person');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');

    github.signIn(githubUser({ emails: [{ email, primary: true, verified: true }] }));
    await page.getByRole('link', { name: 'Continue with GitHub' }).click();
    await page.waitForURL('**/sign-in?oauth_error=email_in_use&provider=github');
    await expect
      .poll(() => page.getByRole('alert').allTextContents())
      .toContain(
        'An account with this email already exists. Sign in with your password, then link GitHub in Settings.',
      );
    await page.screenshot({ path: 'test-results/e2e-oauth-collision.png', fullPage: true });
  });
});
