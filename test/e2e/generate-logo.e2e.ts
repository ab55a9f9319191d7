// The logo generator: a generation runs on the built-in provider and its logos appear live
// (SSE, no reload); the balance drops by the cost.
import { describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import { uniqueEmail } from '../support/factories.ts';

const browser = setupBrowser();

describe('the logo generator in the browser', () => {
  it('generates logos in the chosen colours and shows them without a reload', async () => {
    const { page } = browser;
    await page.goto('/sign-up');
    await page.getByLabel('Name').fill('Grace');
    await page.getByLabel('Email').fill(uniqueEmail('logo'));
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Generate' }).click();
    await page.getByLabel('App name').fill('Orbit Budget');
    await page.getByLabel('What is it about?').fill('personal finance for students');
    await page.getByRole('textbox', { name: 'Primary colour', exact: true }).fill('#0EA5E9');
    await page.getByRole('textbox', { name: 'Accent colour', exact: true }).fill('#be123c');
    await page.getByLabel('How many logos?').selectOption('3');
    await expect.poll(() => page.getByTestId('cost').textContent()).toBe('3 credits');

    // Count navigations: the result must arrive on this same document.
    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    await page.getByRole('button', { name: 'Generate' }).click();

    await expect
      .poll(() => page.getByTestId('generation-status').first().textContent(), { timeout: 30_000 })
      .toBe('succeeded');
    const images = page.getByTestId('generated-image');
    await expect.poll(() => images.count()).toBe(3);
    // Each image is a real, distinct SVG in the user's colours, served by /files.
    const bodies = await page.evaluate(async () =>
      Promise.all(
        [...document.querySelectorAll<HTMLImageElement>('[data-testid="generated-image"]')].map(
          async (img) => {
            await img.decode();
            return { svg: await (await fetch(img.src)).text(), width: img.naturalWidth };
          },
        ),
      ),
    );
    expect(new Set(bodies.map((b) => b.svg)).size).toBe(3);
    for (const body of bodies) {
      expect(body.svg).toContain('<svg');
      expect(body.svg).toContain('#0ea5e9');
      expect(body.svg).toContain('#be123c');
      expect(body.svg).toContain('Orbit Budget');
      expect(body.width).toBeGreaterThan(0);
    }
    await expect.poll(() => page.getByText('97 credits').first().isVisible()).toBe(true);
    expect(loads).toEqual([]);
    await page.screenshot({ path: 'test-results/e2e-generate.png', fullPage: true });

    // It is in the history and its files in Files.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
    await expect.poll(() => page.getByTestId('generation-tile').count()).toBe(1);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Files' }).click();
    await expect.poll(() => page.getByTestId('file').count()).toBe(3);
  });
});
