// How the real app serves the built client and compresses responses, on a small build-like fixture
// precompressed by the same code `vite build` runs (client/build-plugins.ts): hashed assets as .br or
// .gz by Accept-Encoding and cached as immutable, a missing asset or a source map a 404, index.html
// revalidated and given to every client route (and only to those), JSON compressed per request, SSE
// and stored files never.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { moveSourceMaps, precompressDir } from '../../client/build-plugins.ts';
import { makeTempDir } from '../../server/db/embedded-postgres.ts';
import { setupTestDatabase } from '../support/database.ts';
import { uniqueEmail } from '../support/factories.ts';
import { httpClient, setupTestServer } from '../support/http.ts';

// A build's shape: index.html, hashed assets (one big enough to compress, one too small), a map.
const build = makeTempDir('forgeline-client-');
const sourceMaps = makeTempDir('forgeline-maps-');
const INDEX = `<!doctype html><html><head><title>Forgeline</title><script type="module" src="/assets/app-3f9a1c.js"></script></head><body><div id="root"></div>${'<!-- padding -->'.repeat(80)}</body></html>`;
const APP_JS = `export const routes = ${JSON.stringify(Array.from({ length: 400 }, (_, i) => `/route/${i}`))};\n`;
mkdirSync(join(build, 'assets'));
writeFileSync(join(build, 'index.html'), INDEX);
writeFileSync(join(build, 'assets', 'app-3f9a1c.js'), APP_JS);
writeFileSync(join(build, 'assets', 'tiny-77aa01.js'), 'export {};\n');
writeFileSync(join(build, 'assets', 'app-3f9a1c.js.map'), '{"version":3,"sources":["secret.ts"]}');
const stashed = moveSourceMaps(build, sourceMaps);
precompressDir(build);
// What a stale deploy could leave behind: a map in the served directory is still never served.
writeFileSync(join(build, 'assets', 'left-behind.js.map'), '{"version":3}');
afterAll(() => {
  rmSync(build, { recursive: true, force: true });
  rmSync(sourceMaps, { recursive: true, force: true });
});

const db = setupTestDatabase();
const server = setupTestServer(db, { clientDir: build });

type Raw = { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer };
/** A GET with exactly these headers, body as sent (fetch would add Accept-Encoding and decode). */
function get(path: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.baseUrl}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serving the client', () => {
  it('keeps source maps out of the served directory', () => {
    expect(stashed).toBe(1);
  });

  it('serves a hashed asset as Brotli or gzip by Accept-Encoding, cached as immutable for a year', async () => {
    const br = await get('/assets/app-3f9a1c.js', { 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.headers.vary).toMatch(/Accept-Encoding/);
    expect(brotliDecompressSync(br.body).toString()).toBe(APP_JS);
    expect(br.body.length).toBeLessThan(APP_JS.length / 3);

    const gzip = await get('/assets/app-3f9a1c.js', { 'accept-encoding': 'gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.body).toString()).toBe(APP_JS);

    const plain = await get('/assets/app-3f9a1c.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(APP_JS);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');

    // Too small to be worth compressing: sent as it is, cached the same way.
    const tiny = await get('/assets/tiny-77aa01.js', { 'accept-encoding': 'br' });
    expect(tiny.headers['content-encoding']).toBeUndefined();
    expect(tiny.body.toString()).toBe('export {};\n');
    expect(tiny.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers 404 for a missing asset, a source map or a compressed copy — never index.html', async () => {
    for (const path of [
      '/assets/missing-000000.js',
      '/assets/app-3f9a1c.js.map',
      '/assets/left-behind.js.map',
      '/assets/app-3f9a1c.js.br',
      '/assets/..%2Findex.html',
    ]) {
      const response = await get(path, { 'accept-encoding': 'br' });
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.body.toString()).not.toContain('<!doctype html>');
    }
  });

  it('gives every client route index.html, revalidated on each visit, compressed', async () => {
    for (const path of [
      '/',
      '/files',
      '/files?page=2',
      '/history',
      '/projects/42',
      '/healthy',
      '/metrics-dashboard',
    ]) {
      const page = await get(path, { accept: 'text/html', 'accept-encoding': 'br' });
      expect({ path, status: page.status }).toEqual({ path, status: 200 });
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.headers['content-encoding']).toBe('br');
      expect(brotliDecompressSync(page.body).toString()).toBe(INDEX);
    }
  });

  it("leaves the server's own paths to the server", async () => {
    const json = (raw: Raw) => expect(String(raw.headers['content-type'])).toMatch(/^application\/json/);
    const health = await get('/health');
    expect(health.status).toBe(200);
    json(health);
    json(await get('/ready'));
    const file = await get(`/files/${crypto.randomUUID()}`);
    expect(file.status).toBe(404);
    json(file);
    for (const path of [
      '/trpc/no.such.procedure',
      '/uploads',
      '/webhooks/stripe',
      '/metrics',
      '/auth/oauth/github',
    ]) {
      const response = await get(path, { accept: 'text/html' });
      expect({ path, html: response.body.toString().includes('<!doctype html>') }).toEqual({
        path,
        html: false,
      });
    }
  });
});

describe('compressing responses', () => {
  // 40 calls in one batch: a JSON response of a few KiB.
  const batch = `/trpc/${Array.from({ length: 40 }, () => 'health').join(',')}?batch=1&input=%7B%7D`;

  it('compresses JSON above 1 KiB with Brotli or gzip, and leaves small responses alone', async () => {
    const br = await get(batch, { 'accept-encoding': 'gzip, br' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/Accept-Encoding/);
    const results = JSON.parse(brotliDecompressSync(br.body).toString()) as unknown[];
    expect(results).toHaveLength(40);

    const gzip = await get(batch, { 'accept-encoding': 'gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gzip.body).toString())).toHaveLength(40);

    const refusesBr = await get(batch, { 'accept-encoding': 'br;q=0, gzip;q=0.5' });
    expect(refusesBr.headers['content-encoding']).toBe('gzip');
    expect((await get(batch, { 'accept-encoding': 'identity' })).headers['content-encoding']).toBeUndefined();
    const identity = await get(batch);
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.body.length).toBeGreaterThan(1024);

    const small = await get('/trpc/health', { 'accept-encoding': 'br' });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.body.length).toBeLessThan(1024);
  });

  it('never compresses live updates (SSE) or stored files', async () => {
    const { client, jar } = httpClient(server);
    await client.auth.signUp.mutate({
      email: uniqueEmail(),
      password: 'a long enough password',
      name: 'Sse',
    });

    const controller = new AbortController();
    const live = await fetch(`${server.baseUrl}/trpc/generations.onUpdate?input=%7B%7D`, {
      headers: { cookie: jar.header(), accept: 'text/event-stream', 'accept-encoding': 'br, gzip' },
      signal: controller.signal,
    });
    expect(live.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(live.headers.get('content-encoding')).toBeNull();
    controller.abort();

    const text = 'a stored text file, long enough to be worth compressing. '.repeat(40);
    const uploaded = await fetch(`${server.baseUrl}/uploads?name=notes.txt`, {
      method: 'POST',
      body: text,
      headers: { 'content-type': 'text/plain', cookie: jar.header(), 'x-csrf-protection': '1' },
    });
    const { id } = (await uploaded.json()) as { id: string };
    const served = await get(`/files/${id}`, { cookie: jar.header(), 'accept-encoding': 'br, gzip' });
    expect(served.status).toBe(200);
    expect(served.headers['content-encoding']).toBeUndefined();
    expect(served.headers['content-length']).toBe(String(text.length));
    expect(served.body.toString()).toBe(text);
  });
});
