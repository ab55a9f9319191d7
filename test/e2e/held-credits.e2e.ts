// Held credits in the browser: while a generation runs on the AI provider (a loopback Replicate
// that keeps the prediction processing until released), the dashboard shows the credits it holds
// apart from the available balance, at desktop and phone widths; once the provider finishes (the
// worker polls it: an app on plain http gives the provider no webhook URL), the hold becomes the
// charge and "nothing held" comes back without a reload.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import { type FakeReplicate, startFakeReplicate } from '../support/fake-replicate.ts';
import { requestLogos, settle, signUp } from '../support/page-checks.ts';

const TOKEN = 'r8_loopback_e2e_token';
let fake: FakeReplicate;
// Registered before setupBrowser's own hook, so the app starts with the fake's address.
beforeAll(async () => {
  fake = await startFakeReplicate(TOKEN);
});
afterAll(() => fake.close());
const browser = setupBrowser({
  env: () => ({ AI_PROVIDER: 'replicate', AI_PROVIDER_URL: fake.url, AI_PROVIDER_TOKEN: TOKEN }),
});
mkdirSync('test-results', { recursive: true });

describe('held credits in the browser', () => {
  it('shows what a running generation holds, then the charge once the provider finishes', async () => {
    const { page } = browser;
    await signUp(page, 'Hold Watcher');
    fake.plan({ hold: true, outputs: 3 });

    await requestLogos(page, 'Slow Provider', 'waiting patiently', 3);
    await expect.poll(() => fake.predictions.size, { timeout: 30_000 }).toBe(1);

    await page.goto('/');
    await settle(page);
    const held = page.getByTestId('balance-held');
    await expect.poll(() => held.textContent()).toMatch(/^available · 3 held by generations in progress/);
    // The big figure is what can be spent now; the total still counts the held credits (nothing is
    // spent until the provider answers), and the breakdown ends Balance − Held = Available.
    expect(await page.getByTestId('balance').textContent()).toBe('97 credits');
    expect(await held.textContent()).toContain('100 in total');
    expect(await page.getByTestId('balance-breakdown').textContent()).toMatch(
      /Held[\s\S]*3[\s\S]*Available[\s\S]*97/,
    );
    await page.screenshot({ path: 'test-results/e2e-held-desktop.png', fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await settle(page);
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth),
    ).toBe(true);
    await page.screenshot({ path: 'test-results/e2e-held-phone.png', fullPage: true });

    const [id] = fake.predictions.keys();
    await fake.release(id as string);
    await expect.poll(() => held.textContent(), { timeout: 30_000 }).toBe('available · nothing held');
    expect(await page.getByTestId('balance').textContent()).toBe('97 credits');
  }, 120_000);
});
