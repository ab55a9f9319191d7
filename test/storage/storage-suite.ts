// The storage tests, run once per driver (storage.local.test.ts, storage.s3.test.ts): uploads
// (raw and multipart, streamed, size-limited), SVG served as PNG, serving to the owner and by signed link, downloads, soft delete and
// purge, and the other writers — a generation's images and a deployment's bundle — going through
// the same driver and served back over HTTP.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderLogos } from '../../server/modules/generations/providers/local/logo-svg.ts';
import {
  FileTooLargeError,
  purgeDeletedFiles,
  storeFile,
} from '../../server/modules/storage/storage.service.ts';
import { StorageObject } from '../../server/modules/storage/storage-object.entity.ts';
import { UPLOAD_MAX_BYTES } from '../../shared/schemas/storage.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { failureOf } from '../support/errors.ts';
import { createUser, uniqueEmail } from '../support/factories.ts';
import { httpClient, setupTestServer } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

/** A PNG's size and whether any pixel is drawn (8-bit RGBA, as resvg writes it). */
function readPng(bytes: Buffer) {
  expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const data: Buffer[] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    if (bytes.toString('latin1', at + 4, at + 8) === 'IDAT')
      data.push(bytes.subarray(at + 8, at + 8 + length));
    at += length + 12;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * 4 + 1;
  // Any non-zero byte other than the per-row filter byte means something was drawn.
  const drawn = raw.some((byte, index) => index % stride !== 0 && byte !== 0);
  return { width, height, drawn };
}

export function describeStorage(driver: 'local' | 's3') {
  const db = setupTestDatabase({ storage: driver });
  const server = setupTestServer(db);
  beforeAll(() => db.runtime.startWorkers({ concurrency: 2, pollIntervalMs: 100 }));

  async function signedInClient() {
    const { client, jar } = httpClient(server);
    const me = await client.auth.signUp.mutate({
      email: uniqueEmail(),
      password: 'a long enough password',
      name: 'Uploader',
    });
    return { client, jar, me };
  }

  const upload = (
    jar: { header(): string },
    body: BodyInit,
    contentType: string,
    headers: Record<string, string> = {},
    name = 'hello world.txt',
  ) =>
    fetch(`${server.baseUrl}/uploads?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      body,
      headers: { 'content-type': contentType, cookie: jar.header(), 'x-csrf-protection': '1', ...headers },
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    });

  /** What the driver holds under a user's prefix, read from the store itself. */
  async function storedKeys(userId: string): Promise<string[]> {
    if (driver === 'local') {
      const dir = join(db.storageRoot, userId);
      return existsSync(dir) ? readdirSync(dir).map((name) => `${userId}/${name}`) : [];
    }
    return (db.s3 as NonNullable<typeof db.s3>).keys(`${userId}/`);
  }

  describe(`uploads and files on the ${driver} driver`, () => {
    it('stores files with this driver', () => {
      expect(db.runtime.storage.provider).toBe(driver);
    });

    it('uploads a file, lists it, serves it to its owner only, and by signed link', async () => {
      const { client, jar, me } = await signedInClient();
      const response = await upload(jar, 'hello, files', 'text/plain');
      expect(response.status).toBe(201);
      const object = (await response.json()) as { id: string; size: number; name: string };
      expect(object).toMatchObject({ size: 12, name: 'hello world.txt' });
      expect(await storedKeys(me.id)).toEqual([`${me.id}/${object.id}`]);

      const page = await client.storage.list.query({});
      expect(page.items.map((item) => item.id)).toEqual([object.id]);

      const own = await fetch(`${server.baseUrl}/files/${object.id}`, { headers: { cookie: jar.header() } });
      expect(own.status).toBe(200);
      expect(await own.text()).toBe('hello, files');
      expect(own.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(own.headers.get('content-length')).toBe('12');

      const stranger = await signedInClient();
      const denied = await fetch(`${server.baseUrl}/files/${object.id}`, {
        headers: { cookie: stranger.jar.header() },
      });
      expect(denied.status).toBe(404);
      const anonymous = await fetch(`${server.baseUrl}/files/${object.id}`);
      expect(anonymous.status).toBe(404);

      const { downloadUrl } = await client.storage.get.query({ id: object.id });
      const signed = await fetch(`${server.baseUrl}${downloadUrl}`);
      expect(signed.status).toBe(200);
      expect(await signed.text()).toBe('hello, files');
      const forged = await fetch(`${server.baseUrl}${downloadUrl.replace(/sig=[^&]+/, 'sig=forged')}`);
      expect(forged.status).toBe(404);
      const expired = await fetch(`${server.baseUrl}${downloadUrl.replace(/exp=\d+/, 'exp=1000')}`);
      expect(expired.status).toBe(404);

      expect(
        (
          await failureOf(
            callerFor(db, { ...me, status: 'active', password: '' }).storage.get({ id: crypto.randomUUID() }),
          )
        ).code,
      ).toBe('NOT_FOUND');
    });

    it('streams an upload of unknown length (chunked) to the store, bytes and hash intact', async () => {
      const { jar } = await signedInClient();
      // 6 MiB in 64 KiB chunks: more than one S3 part, never one buffer.
      const chunk = Buffer.alloc(64 * 1024, 7);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === 96) return controller.close();
          sent++;
          controller.enqueue(new Uint8Array(chunk));
        },
      });
      const response = await upload(jar, body, 'application/zip', {}, 'big.zip');
      expect(response.status).toBe(201);
      const object = (await response.json()) as { id: string; size: number; sha256: string };
      expect(object.size).toBe(96 * 64 * 1024);
      const served = await fetch(`${server.baseUrl}/files/${object.id}`, {
        headers: { cookie: jar.header() },
      });
      const bytes = Buffer.from(await served.arrayBuffer());
      expect(bytes.length).toBe(object.size);
      expect(bytes.every((byte) => byte === 7)).toBe(true);
      const row = await db.orm.em.fork().findOneOrFail(StorageObject, object.id);
      expect(row.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    });

    it('cuts off a stream that passes the size limit and leaves neither bytes nor a row', async () => {
      const user = await createUser(db);
      let produced = 0;
      const endless = new Readable({
        read() {
          produced += 1024 * 1024;
          this.push(Buffer.alloc(1024 * 1024, 1));
        },
      });
      const em = db.orm.em.fork();
      const stored = storeFile(em, db.runtime.storage, {
        userId: user.id,
        name: 'endless.bin',
        contentType: 'application/zip',
        body: endless,
        maxBytes: UPLOAD_MAX_BYTES,
      });
      await expect(stored).rejects.toBeInstanceOf(FileTooLargeError);
      // It read about the limit, not the whole (endless) stream.
      expect(produced).toBeLessThan(UPLOAD_MAX_BYTES + 8 * 1024 * 1024);
      await em.flush();
      expect(await db.orm.em.fork().count(StorageObject, { user: user.id })).toBe(0);
      expect(await storedKeys(user.id)).toEqual([]);
    });

    it('refuses uploads that are too large, of a refused type, empty, anonymous, or without the CSRF header', async () => {
      const { client, jar, me } = await signedInClient();
      expect((await upload(jar, Buffer.alloc(UPLOAD_MAX_BYTES + 1), 'image/png')).status).toBe(413);
      expect((await upload(jar, '<html></html>', 'text/html')).status).toBe(415);
      expect((await upload(jar, '', 'text/plain')).status).toBe(400);
      const emptyStream = new ReadableStream({ start: (controller) => controller.close() });
      expect((await upload(jar, emptyStream, 'text/plain')).status).toBe(400);
      expect((await upload({ header: () => '' }, 'x', 'text/plain')).status).toBe(401);
      expect((await upload(jar, 'x', 'text/plain', { 'x-csrf-protection': '0' })).status).toBe(403);
      expect((await client.storage.list.query({})).items).toHaveLength(0);
      expect(await storedKeys(me.id)).toEqual([]);
    });

    it('serves an uploaded SVG inline only under the sandboxing CSP', async () => {
      const { jar } = await signedInClient();
      const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>';
      const object = (await (await upload(jar, svg, 'image/svg+xml', {}, 'x.svg')).json()) as { id: string };
      const served = await fetch(`${server.baseUrl}/files/${object.id}`, {
        headers: { cookie: jar.header() },
      });
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toBe('image/svg+xml');
      expect(served.headers.get('content-security-policy')).toMatch(/default-src 'none'.*sandbox/);
      expect(served.headers.get('content-disposition')).toBe("inline; filename*=UTF-8''x.svg");
      expect(await served.text()).toBe(svg);
    });

    it('downloads a file as an attachment', async () => {
      const { jar } = await signedInClient();
      const object = (await (
        await upload(jar, 'report body', 'text/plain', {}, 'Q1 report (final).txt')
      ).json()) as {
        id: string;
      };
      const disposition = "attachment; filename*=UTF-8''Q1%20report%20%28final%29.txt";
      const response = await fetch(`${server.baseUrl}/files/${object.id}?download=1`, {
        headers: { cookie: jar.header() },
        redirect: 'manual',
      });
      if (driver === 'local') {
        expect(response.status).toBe(200);
        expect(response.headers.get('content-disposition')).toBe(disposition);
        expect(await response.text()).toBe('report body');
        return;
      }
      // S3: straight from the bucket by a presigned URL, which works without our cookies and only
      // with its signature.
      expect(response.status).toBe(302);
      const location = response.headers.get('location') as string;
      expect(location.startsWith(`${db.s3?.endpoint}/`)).toBe(true);
      expect(location).toMatch(/X-Amz-Signature=[0-9a-f]{64}/);
      const fromBucket = await fetch(location);
      expect(fromBucket.status).toBe(200);
      expect(fromBucket.headers.get('content-disposition')).toBe(disposition);
      expect(fromBucket.headers.get('content-type')).toBe('text/plain');
      expect(await fromBucket.text()).toBe('report body');
      const tampered = await fetch(
        location.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`),
      );
      expect(tampered.status).toBe(403);
      const unsigned = await fetch(location.split('?')[0] as string);
      expect(unsigned.status).toBe(403);
    });

    it('soft-deletes and restores, and the purge removes the bytes from the store', async () => {
      const { client, jar, me } = await signedInClient();
      const object = (await (await upload(jar, '{"a":1}', 'application/json')).json()) as { id: string };
      await client.storage.remove.mutate({ id: object.id });
      expect((await client.storage.list.query({})).items).toHaveLength(0);
      expect((await client.storage.list.query({ deleted: true })).items.map((i) => i.id)).toEqual([
        object.id,
      ]);
      const gone = await fetch(`${server.baseUrl}/files/${object.id}`, { headers: { cookie: jar.header() } });
      expect(gone.status).toBe(404);
      await client.storage.restore.mutate({ id: object.id });
      expect((await client.storage.list.query({})).items.map((i) => i.id)).toEqual([object.id]);

      await client.storage.remove.mutate({ id: object.id });
      const purged = await purgeDeletedFiles(
        db.orm.em.fork(),
        db.runtime.storage,
        new Date(Date.now() + 1000),
      );
      expect(purged).toBeGreaterThanOrEqual(1);
      expect(await db.orm.em.fork().count(StorageObject, { id: object.id })).toBe(0);
      expect(await storedKeys(me.id)).toEqual([]);
      await expect(db.runtime.storage.read(`${me.id}/${object.id}`)).rejects.toThrow();
    });

    it("writes a generation's images through the driver and serves them", async () => {
      const user = await createUser(db, { credits: 10 });
      const caller = callerFor(db, user);
      const created = await caller.generations.create({
        kind: 'logo',
        input: { appName: 'Bucket', appFocus: 'object storage', color1: '#0ea5e9', color2: '#f97316' },
        outputCount: 2,
      });
      const done = await waitFor(
        async () => {
          const generation = await caller.generations.get({ id: created.id });
          return generation.status === 'succeeded' ? generation : null;
        },
        { what: 'the generation to succeed' },
      );
      expect(done.images).toHaveLength(2);
      expect((await storedKeys(user.id)).sort()).toEqual(
        done.images.map((i) => `${user.id}/${i.objectId}`).sort(),
      );
      for (const image of done.images) {
        const { downloadUrl } = await caller.storage.get({ id: image.objectId });
        const served = await fetch(`${server.baseUrl}${downloadUrl}`);
        expect(served.headers.get('content-type')).toBe('image/svg+xml');
        expect(await served.text()).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
      }
    });

    it("writes a deployment's bundle through the driver and serves the page", async () => {
      const user = await createUser(db, { credits: 10 });
      const caller = callerFor(db, user);
      const project = await caller.projects.create({ name: 'Stored site', template: 'blog' });
      await caller.projects.generate({ projectId: project.id, agentType: 'frontend' });
      await waitFor(async () => (await caller.projects.get({ projectId: project.id })).status === 'ready', {
        what: 'the project to be ready',
      });
      await caller.projects.deploy({ projectId: project.id });
      const deployed = await waitFor(
        async () => {
          const p = await caller.projects.get({ projectId: project.id });
          return p.status === 'deployed' ? p : null;
        },
        { what: 'the deployment' },
      );
      const bundle = await db.orm.em
        .fork()
        .find(StorageObject, { user: user.id, name: { $like: 'projects/%' } }, { orderBy: { name: 'asc' } });
      expect(bundle.map((file) => file.provider)).toEqual([driver, driver]);
      expect(await storedKeys(user.id)).toEqual(expect.arrayContaining(bundle.map((file) => file.key)));
      const url = new URL(deployed.deploymentUrl as string);
      const page = await fetch(`${server.baseUrl}${url.pathname}${url.search}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toMatch(/sandbox/);
      expect(await page.text()).toContain('<h1>Stored site</h1>');
    });

    it('serves an SVG as PNG rendered on the server, at the asked width, to its owner only', async () => {
      const { jar } = await signedInClient();
      const [wide = '', square = ''] = renderLogos({
        appName: 'Orbit Budget',
        appFocus: 'personal finance',
        color1: '#0ea5e9',
        color2: '#be123c',
        count: 6,
        seed: 'png-test',
      }).filter((svg) => /viewBox="0 0 1024 384"|viewBox="0 0 512 512"/.test(svg));
      const files = [];
      for (const svg of [wide, square]) {
        const response = await upload(jar, svg, 'image/svg+xml');
        files.push((await response.json()) as { id: string });
      }
      const get = (id: string, query: string, cookie = jar.header()) =>
        fetch(`${server.baseUrl}/files/${id}?${query}`, { headers: { cookie } });

      const png = await get(files[0]?.id as string, 'format=png&download=1');
      expect(png.status).toBe(200);
      expect(png.headers.get('content-type')).toBe('image/png');
      expect(png.headers.get('content-disposition')).toBe(
        "attachment; filename*=UTF-8''hello%20world.txt.png",
      );
      expect(readPng(Buffer.from(await png.arrayBuffer()))).toEqual({
        width: 1024,
        height: 384,
        drawn: true,
      });
      const small = await get(files[1]?.id as string, 'format=png&width=256');
      expect(readPng(Buffer.from(await small.arrayBuffer()))).toEqual({
        width: 256,
        height: 256,
        drawn: true,
      });

      expect((await get(files[0]?.id as string, 'format=png&width=4')).status).toBe(400);
      expect((await get(files[0]?.id as string, 'format=png&width=abc')).status).toBe(400);
      expect((await get(files[0]?.id as string, 'format=gif')).status).toBe(400);
      const stranger = await signedInClient();
      expect((await get(files[0]?.id as string, 'format=png', stranger.jar.header())).status).toBe(404);
      const text = (await (await upload(jar, 'just text', 'text/plain')).json()) as { id: string };
      expect((await get(text.id, 'format=png')).status).toBe(415);
    });

    it('renders PNG in a sandbox: an SVG cannot make the server read a local file', async () => {
      const { jar } = await signedInClient();
      const asPng = async (svg: string) => {
        const made = (await (await upload(jar, svg, 'image/svg+xml')).json()) as { id: string };
        const response = await fetch(`${server.baseUrl}/files/${made.id}?format=png&width=16`, {
          headers: { cookie: jar.header() },
        });
        expect(response.status).toBe(200);
        return Buffer.from(await response.arrayBuffer());
      };
      // A real image on this machine (resvg's native build would draw it)…
      const red = await asPng(
        '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="red"/></svg>',
      );
      expect(readPng(red).drawn).toBe(true);
      const dir = mkdtempSync(join(tmpdir(), 'forgeline-probe-'));
      writeFileSync(join(dir, 'red.png'), red);
      // …referenced by an uploaded SVG, is not read: nothing is drawn.
      const probe = await asPng(
        `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><image href="${join(dir, 'red.png')}" width="16" height="16"/></svg>`,
      );
      rmSync(dir, { recursive: true });
      expect(readPng(probe)).toEqual({ width: 16, height: 16, drawn: false });
    });

    it('takes the content type in any case, with parameters', async () => {
      const { jar } = await signedInClient();
      const response = await upload(jar, 'plain text', 'Text/Plain; charset=UTF-8');
      expect(response.status).toBe(201);
      await expect(response.json()).resolves.toMatchObject({ contentType: 'text/plain', size: 10 });
    });

    it('validates storage procedure input', async () => {
      const { client } = await signedInClient();
      await expect(client.storage.get.query({ id: 'not-a-uuid' })).rejects.toMatchObject({
        data: { code: 'BAD_REQUEST' },
      });
      await expect(client.storage.list.query({ limit: 0 })).rejects.toMatchObject({
        data: { code: 'BAD_REQUEST' },
      });
    });
  });

  /** A browser-style multipart/form-data POST (the body built by fetch's own FormData encoder). */
  const uploadForm = (jar: { header(): string }, form: FormData, headers: Record<string, string> = {}) =>
    fetch(`${server.baseUrl}/uploads`, {
      method: 'POST',
      body: form,
      headers: { cookie: jar.header(), 'x-csrf-protection': '1', ...headers },
    });

  const fileForm = (parts: { field?: string; body: BlobPart; type: string; name: string }[]) => {
    const form = new FormData();
    for (const part of parts)
      form.append(part.field ?? 'file', new Blob([part.body], { type: part.type }), part.name);
    return form;
  };

  describe(`multipart uploads on the ${driver} driver`, () => {
    it('stores the one file of a multipart/form-data body, with its name and type', async () => {
      const { client, jar, me } = await signedInClient();
      const svg = '<svg xmlns="http://www.w3.org/2000/svg"><rect width="4" height="4"/></svg>';
      const response = await uploadForm(
        jar,
        fileForm([{ body: svg, type: 'image/svg+xml', name: 'logo.svg' }]),
      );
      expect(response.status).toBe(201);
      const object = (await response.json()) as {
        id: string;
        name: string;
        contentType: string;
        size: number;
      };
      expect(object).toMatchObject({ name: 'logo.svg', contentType: 'image/svg+xml', size: svg.length });
      const served = await fetch(`${server.baseUrl}/files/${object.id}`, {
        headers: { cookie: jar.header() },
      });
      expect(await served.text()).toBe(svg);
      expect((await client.storage.list.query({})).items.map((item) => item.id)).toEqual([object.id]);
      expect(await storedKeys(me.id)).toEqual([`${me.id}/${object.id}`]);
    });

    it('reads the file whatever its field, beside ordinary fields, and a file exactly at the limit', async () => {
      const { jar, me } = await signedInClient();
      const form = new FormData();
      form.append('note', 'from the settings page');
      form.append(
        'attachment',
        new Blob([Buffer.alloc(UPLOAD_MAX_BYTES, 1)], { type: 'application/pdf' }),
        'big.pdf',
      );
      const response = await uploadForm(jar, form);
      expect(response.status).toBe(201);
      const object = (await response.json()) as { id: string };
      expect(object).toMatchObject({ name: 'big.pdf', size: UPLOAD_MAX_BYTES });
      const row = await db.orm.em.fork().findOneOrFail(StorageObject, object.id);
      expect(row.sha256).toBe(createHash('sha256').update(Buffer.alloc(UPLOAD_MAX_BYTES, 1)).digest('hex'));
      expect(await storedKeys(me.id)).toEqual([`${me.id}/${object.id}`]);
    });

    it('refuses a file over the limit, a refused type, none or two files, and a broken body — storing nothing', async () => {
      const { client, jar, me } = await signedInClient();
      const tooLarge = await uploadForm(
        jar,
        fileForm([{ body: Buffer.alloc(UPLOAD_MAX_BYTES + 1), type: 'image/png', name: 'huge.png' }]),
      );
      expect(tooLarge.status).toBe(413);
      const html = await uploadForm(
        jar,
        fileForm([{ body: '<html></html>', type: 'text/html', name: 'x.html' }]),
      );
      expect(html.status).toBe(415);
      const noFile = new FormData();
      noFile.append('name', 'nothing');
      expect((await uploadForm(jar, noFile)).status).toBe(400);
      const two = fileForm([
        { body: 'one', type: 'text/plain', name: 'one.txt' },
        { body: 'two', type: 'text/plain', name: 'two.txt' },
      ]);
      expect((await uploadForm(jar, two)).status).toBe(400);
      const empty = await uploadForm(jar, fileForm([{ body: '', type: 'text/plain', name: 'empty.txt' }]));
      expect(empty.status).toBe(400);
      const noBoundary = await upload(jar, 'x', 'multipart/form-data');
      expect(noBoundary.status).toBe(400);
      const truncated = await upload(
        jar,
        '--xyz\r\ncontent-disposition: form-data; name="file"; filename="a.txt"\r\ncontent-type: text/plain\r\n\r\nhalf a fi',
        'multipart/form-data; boundary=xyz',
      );
      expect(truncated.status).toBe(400);
      expect((await client.storage.list.query({})).items).toHaveLength(0);
      // The refused files' bytes are gone too (removed by the driver, or discarded once stored).
      await waitFor(async () => (await storedKeys(me.id)).length === 0, {
        what: 'no bytes left in the store',
      });
    });

    it('checks the session and the CSRF header before reading a multipart body', async () => {
      const form = () => fileForm([{ body: 'x', type: 'text/plain', name: 'x.txt' }]);
      expect((await uploadForm({ header: () => '' }, form())).status).toBe(401);
      const { client, jar } = await signedInClient();
      expect((await uploadForm(jar, form(), { 'x-csrf-protection': '0' })).status).toBe(403);
      expect((await client.storage.list.query({})).items).toHaveLength(0);
    });
  });

  return db;
}
