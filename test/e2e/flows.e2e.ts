// Journeys across pages: an invitee follows the mailed link, signs up and joins; a session ended
// elsewhere leads to sign-in and back to the same page; an admin's role change and deactivation
// ask first, prices are edited in money and packages edited; the history is a gallery whose
// filters live in the URL, and a logo downloads as PNG.
import { describe, expect, it } from 'vitest';
import { setupBrowser } from '../support/browser.ts';
import { uniqueEmail } from '../support/factories.ts';
import { demoAdmin, requestLogos, settle, signIn, signUp } from '../support/page-checks.ts';
import { setupSmtpCapture } from '../support/smtp.ts';

const smtp = setupSmtpCapture();
const browser = setupBrowser({ env: () => smtp.env() });
const nav = (name: string) =>
  browser.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

describe('journeys in the browser', () => {
  it('an invitee opens the mailed link signed out, signs up, comes back and joins', async () => {
    const { page } = browser;
    await signUp(page, 'Owner');
    await nav('Teams').click();
    await page.getByLabel('Organization name').fill('Rocket Crew');
    await page.getByRole('button', { name: 'Create organization' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Members' }).textContent()).toContain('owner');
    const invitee = uniqueEmail('invitee');
    await page.getByLabel('Invite by email').fill(invitee);
    await page.getByRole('button', { name: 'Invite' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Invitations' }).textContent()).toContain(invitee);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');

    const link = await smtp.waitForLink(
      invitee,
      /(https?:\/\/\S+\/invitations\/accept\?token=[A-Za-z0-9_-]+)/,
    );
    await page.goto(link);
    await expect.poll(() => page.title()).toBe('Join your team · Forgeline');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Name').fill('Invitee');
    await page.getByLabel('Email').fill(invitee);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    // Back on the invitation, signed in: one click joins.
    await page.waitForURL((url) => url.pathname === '/invitations/accept');
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    await expect.poll(() => page.getByText('You joined Rocket Crew as member').isVisible()).toBe(true);
    await page.screenshot({ path: 'test-results/e2e-invitation-accepted.png', fullPage: true });
    await page.getByRole('link', { name: 'Open Rocket Crew' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Members' }).textContent()).toContain('Owner');

    // The link worked once.
    await page.goto(link);
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    await expect
      .poll(async () => (await page.getByRole('alert').allTextContents()).join(' '))
      .toMatch(/invalid or has expired/);
  });

  it('a session revoked elsewhere leads to sign-in, then back to the same page', async () => {
    const { page, context } = browser;
    const email = await signUp(page, 'Two Devices');
    await page.goto('/history?kind=logo');
    await settle(page);

    // The same account on another device signs every other session out.
    const other = await context.browser()?.newContext({ baseURL: new URL(page.url()).origin });
    const phone = await other?.newPage();
    if (!phone || !other) throw new Error('no second context');
    await signIn(phone, email);
    await phone.goto('/settings');
    await phone.getByRole('button', { name: 'Sign out everywhere else' }).click();
    await phone.getByRole('button', { name: 'Sign them out' }).click();
    await expect.poll(() => phone.getByRole('button', { name: 'Sign out everywhere else' }).count()).toBe(0);
    await other.close();

    // The first device learns it at once from its live stream, or from its next request (a click on
    // Files, if the stream has not ended yet): either way it lands on sign-in, told why.
    await nav('Files')
      .click({ timeout: 2_000 })
      .catch(() => {});
    await page.waitForURL(/\/sign-in\?next=%2F(history%3Fkind%3Dlogo|files)$/);
    const back = new URL(page.url()).searchParams.get('next') ?? '';
    await expect.poll(() => page.getByText('Your session has ended').isVisible()).toBe(true);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname + url.search === back);
    const heading = back === '/files' ? 'Files' : 'History';
    await expect.poll(() => page.getByRole('heading', { name: heading, level: 1 }).isVisible()).toBe(true);
  });

  it('an admin changes a role and deactivates only after confirming; prices are edited in money', async () => {
    const { page, app } = browser;
    const customer = await signUp(page, 'Customer');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    const admin = demoAdmin(app.output());
    await signIn(page, admin.email, admin.password);
    await page.goto('/admin/users');
    await page.getByLabel('Search users').fill(customer);
    await page.getByRole('link', { name: customer }).click();
    await page.waitForURL('**/admin/users/*');
    await settle(page);

    // Arrow keys through the select change nothing on the server.
    const role = page.getByLabel('Role');
    await expect.poll(() => role.inputValue()).toBe('user');
    await role.focus();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => role.inputValue()).toBe('moderator');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => role.inputValue()).toBe('admin');
    await page.reload();
    await settle(page);
    expect(await page.getByLabel('Role').inputValue()).toBe('user');
    // Saving asks first; Cancel puts the select back.
    await page.getByLabel('Role').selectOption('moderator');
    await page.getByRole('button', { name: 'Save role' }).click();
    const confirmRole = page.getByRole('dialog', { name: `Make ${customer} a moderator?` });
    await confirmRole.getByRole('button', { name: 'Cancel' }).click();
    // The dialog's close event (which puts the select back) is queued after the click returns.
    await expect.poll(() => page.getByLabel('Role').inputValue()).toBe('user');
    await page.getByLabel('Role').selectOption('moderator');
    await page.getByRole('button', { name: 'Save role' }).click();
    await confirmRole.getByRole('button', { name: 'Change role' }).click();
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).locator('..').textContent())
      .toContain('Moderator');

    await page.getByRole('button', { name: 'Deactivate' }).click();
    const deactivate = page.getByRole('dialog', { name: `Deactivate ${customer}?` });
    await expect.poll(() => deactivate.isVisible()).toBe(true);
    await deactivate.getByRole('button', { name: 'Deactivate' }).click();
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).locator('..').textContent())
      .toContain('Deactivated');

    // Packages are edited in dollars, with plain-word errors.
    await page.goto('/admin/catalog');
    await settle(page);
    await page.getByRole('button', { name: 'Edit Builder' }).click();
    const form = page.getByRole('form', { name: 'Edit Builder' });
    await form.getByLabel('Price (USD)').fill('twelve');
    await form.getByLabel('Name').fill('');
    await form.getByRole('button', { name: 'Save package' }).click();
    await expect
      .poll(() => form.getByRole('alert').allTextContents())
      .toEqual(['This field is required', 'Enter an amount like 9 or 9.99']);
    await form.getByLabel('Name').fill('Builder');
    await form.getByLabel('Price (USD)').fill('24.50');
    await form.getByRole('button', { name: 'Save package' }).click();
    await expect
      .poll(() => page.getByRole('list', { name: 'Credit packages' }).textContent())
      .toContain('500 credits · $24.50');
    await page.getByRole('button', { name: 'Edit Pro' }).click();
    const plan = page.getByRole('form', { name: 'Edit Pro' });
    expect(await plan.getByLabel('Monthly price (USD)').inputValue()).toBe('29');
    await plan.getByLabel('Yearly price (USD)').fill('-5');
    await plan.getByRole('button', { name: 'Save plan' }).click();
    await expect
      .poll(() => plan.getByRole('alert').allTextContents())
      .toEqual(['Enter an amount like 9 or 9.99']);
    await plan.getByRole('button', { name: 'Cancel' }).click();
    await page.screenshot({ path: 'test-results/e2e-admin-catalog-edited.png', fullPage: true });
    // The customer-facing pricing shows the new price.
    await page.goto('/pricing');
    await expect
      .poll(() => page.getByTestId('package').filter({ hasText: 'Builder' }).textContent())
      .toContain('$24.50');
  });

  it('keeps history filters in the URL: search, kind and dates survive a reload; logos download as PNG', async () => {
    const { page } = browser;
    await signUp(page, 'Collector');
    for (const [name, focus] of [
      ['Harbor Books', 'reading club'],
      ['Pixel Kitchen', 'recipes'],
    ]) {
      await requestLogos(page, name as string, focus as string, 4);
      await expect.poll(() => page.getByTestId('generated-image').count(), { timeout: 30_000 }).toBe(4);
    }
    await nav('History').click();
    await expect.poll(() => page.getByTestId('generation-tile').count()).toBe(2);

    await page.getByLabel('Search', { exact: true }).fill('harbor');
    await page.waitForURL((url) => url.searchParams.get('q') === 'harbor');
    await expect
      .poll(() => page.getByTestId('generation-tile').allTextContents())
      .toEqual([expect.stringContaining('Harbor Books')]);
    await page.reload();
    await settle(page);
    expect(await page.getByLabel('Search', { exact: true }).inputValue()).toBe('harbor');
    expect(await page.getByTestId('generation-tile').count()).toBe(1);

    // A range that ends before today finds nothing; clearing brings both back.
    await page.getByLabel('To', { exact: true }).fill('2020-01-01');
    await page.waitForURL((url) => url.searchParams.get('to') === '2020-01-01');
    await expect.poll(() => page.getByText('Nothing matches these filters').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await expect.poll(() => page.getByTestId('generation-tile').count()).toBe(2);
    await page.getByLabel('Kind', { exact: true }).selectOption('text');
    await page.waitForURL((url) => url.searchParams.get('kind') === 'text');
    await expect.poll(() => page.getByText('Nothing matches these filters').isVisible()).toBe(true);
    await page.goBack();
    await expect.poll(() => page.getByTestId('generation-tile').count()).toBe(2);
    await page.screenshot({ path: 'test-results/e2e-history-gallery.png', fullPage: true });

    // A tile opens the generation; its logos download as SVG and as PNG rendered by the server.
    await page.getByTestId('generation-tile').filter({ hasText: 'Pixel Kitchen' }).click();
    await page.waitForURL('**/history/*');
    await expect.poll(() => page.getByTestId('generated-image').count()).toBe(4);
    const pngLink = page.getByRole('link', { name: 'Download logo 1 as PNG' });
    const [download] = await Promise.all([page.waitForEvent('download'), pngLink.click()]);
    expect(download.suggestedFilename()).toBe('pixel-kitchen-1.png');
    const png = await page.request.get((await pngLink.getAttribute('href')) as string);
    expect(png.status()).toBe(200);
    expect(png.headers()['content-type']).toBe('image/png');
    expect((await png.body()).subarray(1, 4).toString()).toBe('PNG');
    await page.getByRole('link', { name: '← History' }).click();
    await page.waitForURL((url) => url.pathname === '/history');
  });
});
