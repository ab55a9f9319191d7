// The real build served by the real app to Chromium: the first page's scripts and styles arrive
// compressed and cacheable for a year, index.html is revalidated, no source map is reachable, a
// missing asset is a 404, and a deep link to /files (a client page) loads the app.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIENT_DIST } from '../../server/app.ts';
import { setupBrowser } from '../support/browser.ts';
import { uniqueEmail } from '../support/factories.ts';

const browser = setupBrowser();

describe('serving the client', () => {
  it('ships the first page compressed, caches hashed assets as immutable and revalidates index.html', async () => {
    const { page } = browser;
    const assets: { url: string; encoding: string | undefined; cache: string | undefined; bytes: number }[] =
      [];
    let index: { cache: string | undefined; encoding: string | undefined } | null = null;
    page.on('response', async (response) => {
      const url = new URL(response.url());
      const headers = await response.allHeaders();
      if (url.pathname.startsWith('/assets/')) {
        const sizes = await response.request().sizes();
        assets.push({
          url: url.pathname,
          encoding: headers['content-encoding'],
          cache: headers['cache-control'],
          bytes: sizes.responseBodySize,
        });
      } else if (url.pathname === '/sign-in') {
        index = { cache: headers['cache-control'], encoding: headers['content-encoding'] };
      }
    });
    await page.goto('/sign-in');
    await expect.poll(() => page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);

    // index.html is revalidated on every visit; compressed when it is large enough to be worth it.
    const indexBytes = statSync(join(CLIENT_DIST, 'index.html')).size;
    expect(index).toEqual({
      cache: 'no-cache',
      encoding: indexBytes >= 1024 ? expect.stringMatching(/^(br|gzip)$/) : undefined,
    });
    const scripts = assets.filter((a) => a.url.endsWith('.js') || a.url.endsWith('.css'));
    expect(scripts.length).toBeGreaterThan(2);
    for (const asset of scripts) {
      expect(asset.cache).toBe('public, max-age=31536000, immutable');
      // Chromium takes Brotli over https and gzip over plain http: either is compressed.
      if (asset.bytes > 1024) expect(asset.encoding, asset.url).toMatch(/^(br|gzip)$/);
    }
    const onTheWire = scripts.reduce((sum, a) => sum + a.bytes, 0);
    const uncompressed = scripts.reduce(
      (sum, a) => sum + statSync(join(CLIENT_DIST, a.url.slice(1))).size,
      0,
    );
    console.info(
      `first page: ${scripts.length} scripts and styles, ${(uncompressed / 1024).toFixed(0)} kB → ${(onTheWire / 1024).toFixed(0)} kB on the wire (${scripts.map((a) => a.encoding ?? 'identity').join(', ')})`,
    );
    expect(onTheWire).toBeLessThan(uncompressed / 3);
  });

  it('keeps source maps private and answers 404 for a missing asset', async () => {
    const { page } = browser;
    const served = readdirSync(CLIENT_DIST, { recursive: true }) as string[];
    expect(served.filter((name) => name.endsWith('.map'))).toEqual([]);
    const script = served.find((name) => /^assets[\\/]index-[\w-]+\.js$/.test(name)) as string;
    expect(readFile(`/${script}`)).not.toContain('sourceMappingURL');

    await page.goto('/sign-in');
    const statuses = await page.evaluate(
      async (path) => {
        const status = async (url: string) => {
          const response = await fetch(url);
          return { url, status: response.status, html: (await response.text()).includes('<div id="root">') };
        };
        return Promise.all([
          status(`${path}.map`),
          status('/assets/index-00000000.js'),
          status('/assets/nothing.css'),
        ]);
      },
      `/${script.replace(/\\/g, '/')}`,
    );
    for (const entry of statuses) expect(entry).toMatchObject({ status: 404, html: false });
  });

  it('loads the app on a deep link to /files', async () => {
    const { page } = browser;
    await page.goto('/sign-up');
    await page.getByLabel('Name').fill('Deep Link');
    await page.getByLabel('Email').fill(uniqueEmail('deep'));
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('100 credits');

    const response = await page.goto('/files');
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    await expect.poll(() => page.getByRole('heading', { name: 'Files', level: 1 }).isVisible()).toBe(true);
  });
});

const readFile = (urlPath: string) => readFileSync(join(CLIENT_DIST, urlPath.slice(1)), 'utf8');
