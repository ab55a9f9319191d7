// API keys end to end: create one in the settings with a daily credit budget, see its secret once,
// call the API with it over HTTP until the budget refuses (429), see today's spend on the page,
// raise the budget, revoke it in the page, and the same call is refused.
import { describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import { uniqueEmail } from '../support/factories.ts';

const browser = setupBrowser();

describe('API keys in the browser', () => {
  it('creates a key shown once, which calls the API until it is revoked', async () => {
    const { page, app } = browser;
    await page.goto('/sign-up');
    await page.getByLabel('Name').fill('Integrator');
    await page.getByLabel('Email').fill(uniqueEmail('keys'));
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('link', { name: 'API keys →' }).click();
    await expect.poll(() => page.getByText('No API keys yet').isVisible()).toBe(true);
    await page.getByLabel('Name').fill('CI pipeline');
    await page.getByLabel(/generations:write/).check();
    await page.getByLabel('Daily credit budget (optional)').fill('abc');
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect.poll(() => page.getByText('Whole credits only').isVisible()).toBe(true);
    await page.getByLabel('Daily credit budget (optional)').fill('3');
    await page.getByRole('button', { name: 'Create key' }).click();

    const secretField = page.getByLabel('API key secret');
    await expect.poll(() => secretField.inputValue()).toMatch(/^fl_/);
    const secret = await secretField.inputValue();
    await page.getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Copied' }).isVisible()).toBe(true);
    await page.screenshot({ path: 'test-results/e2e-api-keys.png', fullPage: true });
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByLabel('API key secret').count()).toBe(0);
    await expect
      .poll(() => page.getByRole('list', { name: 'API keys' }).textContent())
      .toContain('CI pipeline');
    // Only the prefix stays on the page.
    expect(await page.content()).not.toContain(secret);

    const call = () =>
      fetch(`${app.url}/trpc/credits.balance`, { headers: { authorization: `Bearer ${secret}` } });
    const ok = await call();
    expect(ok.status).toBe(200);
    expect(JSON.stringify(await ok.json())).toContain('"balance":100');

    // Generations through the key: 3 credits a day, then 429 until 00:00 UTC.
    const generate = (outputCount: number) =>
      fetch(`${app.url}/trpc/generations.create`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          json: {
            kind: 'logo',
            input: { appName: 'Budget', appFocus: 'daily limits', color1: '#112233', color2: '#445566' },
            outputCount,
          },
        }),
      });
    expect((await generate(3)).status).toBe(200);
    const refused = await generate(1);
    expect(refused.status).toBe(429);
    expect(JSON.stringify(await refused.json())).toContain('00:00 UTC');
    await page.reload();
    await expect
      .poll(() => page.getByTestId('api-key-spend').textContent())
      .toBe('Today (UTC): 3 of 3 credits a day');
    await page.getByRole('button', { name: /Change the daily budget/ }).click();
    await page.getByLabel('Daily budget of “CI pipeline”').fill('10');
    await page.getByRole('button', { name: 'Save budget' }).click();
    await expect
      .poll(() => page.getByTestId('api-key-spend').textContent())
      .toBe('Today (UTC): 3 of 10 credits a day');
    expect((await generate(1)).status).toBe(200);

    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('button', { name: 'Revoke key' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'API keys' }).textContent()).toContain('revoked');
    expect((await call()).status).toBe(401);
  });
});
