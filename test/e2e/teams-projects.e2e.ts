// A team and a project in the browser: create an organization, add tagged features and filter by
// a tag; create a project, let an agent generate it (live), deploy it and open its URL.
import { describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import { uniqueEmail } from '../support/factories.ts';

const browser = setupBrowser();

describe('teams and projects in the browser', () => {
  it('creates an organization with a features board, and generates and deploys a project', async () => {
    const { page } = browser;
    await page.goto('/sign-up');
    await page.getByLabel('Name').fill('Builder');
    await page.getByLabel('Email').fill(uniqueEmail('builder'));
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Teams' }).click();
    await page.getByLabel('Organization name').fill('Rocket Crew');
    await page.getByRole('button', { name: 'Create organization' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Members' }).textContent()).toContain('owner');
    for (const [name, tags] of [
      ['Checkout', 'billing, api'],
      ['Dark mode', 'ui'],
    ]) {
      await page.getByLabel('Feature', { exact: true }).fill(name as string);
      await page.getByLabel('Tags').fill(tags as string);
      await page.getByRole('button', { name: 'Add feature' }).click();
      await expect
        .poll(() => page.getByRole('list', { name: 'Features' }).textContent())
        .toContain(name as string);
    }
    await page.getByRole('button', { name: '#ui' }).click();
    await expect
      .poll(() => page.getByRole('list', { name: 'Features' }).textContent())
      .not.toContain('Checkout');
    await page.screenshot({ path: 'test-results/e2e-teams.png', fullPage: true });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Projects' }).click();
    await page.getByLabel('Project name').fill('Launchpad');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('link', { name: 'Launchpad' }).click();
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect
      .poll(() => page.getByRole('cell', { name: 'succeeded' }).count(), { timeout: 30_000 })
      .toBe(1);
    await page.getByRole('button', { name: 'Deploy' }).click();
    await expect
      .poll(() => page.getByRole('link', { name: 'Open the deployed app ↗' }).count(), { timeout: 30_000 })
      .toBe(1);
    await page.screenshot({ path: 'test-results/e2e-project.png', fullPage: true });
    const href = await page.getByRole('link', { name: 'Open the deployed app ↗' }).getAttribute('href');
    const deployed = await page.request.get(href as string);
    expect(deployed.status()).toBe(200);
    expect(await deployed.text()).toContain('<h1>Launchpad</h1>');
  });
});
