// HTTP routes beside tRPC: POST /uploads (a raw body, or multipart/form-data with one file; size-
// and type-checked, streamed to the storage driver) and GET /files/:id (the owner's session, or a
// signed expiring link); `?format=png[&width=N]` serves an SVG file as PNG, rendered on the server
// (svg-png.ts).

import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { parse as parseCookies } from 'cookie';
import express, { type Request, type Router } from 'express';
import { SESSION_COOKIE } from '../../../shared/errors.ts';
import { UPLOAD_CONTENT_TYPES, UPLOAD_MAX_BYTES } from '../../../shared/schemas/storage.ts';
import { mediaTypeOf } from '../../common/http-guards.ts';
import type { Deps } from '../../runtime.ts';
import { authenticateSession } from '../identity/session-auth.ts';
import { toStorageObjectDto } from './storage.dto.ts';
import { discardFiles, FileTooLargeError, findServableFile, storeFile } from './storage.service.ts';
import { contentDisposition } from './storage-driver.ts';
import type { StorageObject } from './storage-object.entity.ts';
import { PNG_WIDTH_DEFAULT, PNG_WIDTH_MAX, SvgRenderError, svgToPng } from './svg-png.ts';

/** Served files may not run script, load anything, or be framed into our origin's context. */
export const FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";
/** How long a presigned S3 download link lives (the redirect is followed at once). */
const DOWNLOAD_LINK_SECONDS = 300;

/** The PNG rendering a request asks for: null (the file as stored), a width, or what is wrong. */
function pngRequest(query: Request['query']): { width: number } | { error: string } | null {
  if (query.format === undefined) return null;
  if (query.format !== 'png') return { error: 'format can only be "png"' };
  if (query.width === undefined) return { width: PNG_WIDTH_DEFAULT };
  const width = Number(query.width);
  if (!Number.isInteger(width) || width < 16 || width > PNG_WIDTH_MAX)
    return { error: `width must be a whole number from 16 to ${PNG_WIDTH_MAX}` };
  return { width };
}

async function sessionUser(deps: Deps, req: Request, res: express.Response) {
  const sessionId = parseCookies(req.get('cookie') ?? '')[SESSION_COOKIE];
  if (!sessionId) return null;
  const identity = await authenticateSession(deps, sessionId, {
    set: (cookie) => res.appendHeader('Set-Cookie', cookie),
  });
  return identity.user;
}

const MULTIPART = 'multipart/form-data';
const isAllowedType = (contentType: string) =>
  (UPLOAD_CONTENT_TYPES as readonly string[]).includes(contentType);
const unsupported = (contentType: string) => `Unsupported file type "${contentType || 'none'}"`;
const TOO_LARGE = `The file is larger than ${UPLOAD_MAX_BYTES / (1024 * 1024)} MiB`;
/** Room for a multipart body's boundaries, part headers and small fields around its one file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

class UploadRefused extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

type FilePart = { stream: Readable; contentType: string };
type MultipartStore = {
  /** Stores the file part as it arrives (the storage driver reads the stream). */
  store(part: FilePart): Promise<StorageObject>;
  /** Removes the bytes of a file stored for an upload that was refused after all. */
  discard(object: StorageObject): Promise<void>;
};

/**
 * Streams a multipart/form-data body through busboy and stores its one file part while it arrives
 * (any field name; its filename and Content-Type are the file's). It stops reading as soon as the
 * file passes the size limit, its type is refused, a second file starts, or the body as a whole grows
 * past the limit plus a little form overhead; a refused upload leaves no bytes behind. Nothing is
 * held in memory beyond what the storage driver buffers (one 5 MiB part on S3).
 */
function receiveMultipartFile(
  req: Request,
  { store, discard }: MultipartStore,
): Promise<{ object: StorageObject; name: string | null }> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          files: 1,
          // busboy reports the limit once a file *reaches* it: one byte more tells a file over
          // the limit from one exactly at it.
          fileSize: UPLOAD_MAX_BYTES + 1,
          fields: 10,
          fieldSize: 1024,
          parts: 11,
          headerPairs: 20,
        },
      });
    } catch {
      reject(new UploadRefused(400, 'Malformed multipart body (no boundary)'));
      return;
    }
    let settled = false;
    let part: Readable | null = null;
    let stored: Promise<StorageObject> | null = null;
    let filename: string | null = null;
    let nameField: string | null = null;
    let received = 0;
    const countBytes = (chunk: Buffer) => {
      received += chunk.length;
      if (received > UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD_BYTES) refuse(413, TOO_LARGE);
    };
    const stopReading = () => {
      req.off('data', countBytes);
      req.unpipe(parser);
      parser.removeAllListeners();
      parser.on('error', () => {});
    };
    const refuse = (status: number, message: string) => {
      if (settled) return;
      settled = true;
      stopReading();
      const refusal = new UploadRefused(status, message);
      // A file still arriving stops there (the driver removes what it wrote); one already stored goes.
      part?.destroy(refusal);
      stored?.then(discard).catch(() => {});
      reject(refusal);
    };

    parser.on('file', (_field, stream, info) => {
      // A broken body fails the parser too (handled there); the part's stream must not throw.
      stream.on('error', () => {});
      const contentType = mediaTypeOf(info.mimeType);
      if (!isAllowedType(contentType)) {
        stream.resume();
        refuse(415, unsupported(contentType));
        return;
      }
      part = stream;
      filename = info.filename ?? null;
      stored = store({ stream, contentType });
      stored.catch(() => {});
      stream.on('limit', () => refuse(413, TOO_LARGE));
    });
    parser.on('field', (field, value, info) => {
      if (field === 'name' && !info.valueTruncated) nameField = value;
    });
    parser.on('filesLimit', () => refuse(400, 'Send one file per upload'));
    parser.on('fieldsLimit', () => refuse(400, 'Too many form fields'));
    parser.on('partsLimit', () => refuse(400, 'Too many form parts'));
    parser.on('error', () => refuse(400, 'Malformed multipart body'));
    parser.on('close', () => {
      if (settled) return;
      if (!stored) return refuse(400, 'The upload has no file');
      // The body is parsed; the driver may still be finishing the file.
      stored.then(
        (object) => {
          if (settled) return;
          settled = true;
          req.off('data', countBytes);
          resolve({ object, name: filename ?? nameField });
        },
        (error: unknown) => {
          if (error instanceof FileTooLargeError) refuse(413, TOO_LARGE);
          else if (!settled) {
            settled = true;
            reject(error);
          }
        },
      );
    });
    req.on('data', countBytes);
    req.on('error', () => refuse(400, 'The upload was interrupted'));
    req.pipe(parser);
  });
}

const safeName = (name: unknown) =>
  String(name ?? 'upload')
    .replace(/[\\/\0]/g, '_')
    .slice(0, 255) || 'upload';

export function storageRoutes(deps: Deps): Router {
  const routes = express.Router();

  routes.post(
    '/uploads',
    // Who, CSRF and (for a raw body) the type are checked before the body is read: a refused upload
    // costs no bandwidth. A multipart body's file type is checked as soon as its part headers arrive.
    async (req, res, next) => {
      try {
        const user = await sessionUser(deps, req, res);
        if (!user) return void res.status(401).json({ error: 'Sign in to upload' });
        // Same rule as tRPC mutations: a cross-site form cannot set this header.
        if (req.get('x-csrf-protection') !== '1') {
          return void res.status(403).json({ error: 'Missing the x-csrf-protection header' });
        }
        const contentType = mediaTypeOf(req.get('content-type'));
        if (contentType !== MULTIPART && !isAllowedType(contentType)) {
          return void res.status(415).json({ error: unsupported(contentType) });
        }
        // A refused body is not read on: close the connection instead of draining it.
        const refuse = (status: number, error: string) =>
          void res.status(status).set('Connection', 'close').json({ error });
        // The file streams to the storage driver, counted and hashed on the way. No transaction is
        // open while the bytes arrive (a slow client holds no connection); the row is written once
        // they are stored, and the bytes removed if it cannot be.
        const em = deps.orm.em.fork();
        const driver = deps.runtime.storage;
        const store = (body: Readable, type: string) =>
          storeFile(em, driver, {
            userId: user.id,
            name: 'upload',
            contentType: type,
            body,
            maxBytes: UPLOAD_MAX_BYTES,
          });
        let object: StorageObject;
        let name: unknown;
        if (contentType === MULTIPART) {
          try {
            const upload = await receiveMultipartFile(req, {
              store: (part) => store(part.stream, part.contentType),
              discard: (stored) => discardFiles(driver, [stored.key]),
            });
            object = upload.object;
            name = upload.name ?? req.query.name;
          } catch (error) {
            if (!(error instanceof UploadRefused)) throw error;
            return void refuse(error.status, error.message);
          }
        } else {
          // Refused up front when it says it is too large, cut off when it turns out to be.
          const declared = Number(req.get('content-length') ?? Number.NaN);
          if (declared > UPLOAD_MAX_BYTES) return void refuse(413, TOO_LARGE);
          if (declared === 0) return void res.status(400).json({ error: 'The file is empty' });
          const stored = await store(req, contentType).catch((error: unknown) => {
            if (error instanceof FileTooLargeError) return 'too large' as const;
            // The uploader went away: nothing was stored and nobody is left to answer.
            if (!req.complete && req.destroyed) return 'aborted' as const;
            throw error;
          });
          if (stored === 'aborted') return;
          if (stored === 'too large') return void refuse(413, TOO_LARGE);
          object = stored;
          name = req.query.name;
        }
        if (object.size === 0) {
          await discardFiles(driver, [object.key]);
          return void res.status(400).json({ error: 'The file is empty' });
        }
        object.name = safeName(name);
        try {
          await em.flush();
        } catch (error) {
          await discardFiles(driver, [object.key]);
          throw error;
        }
        res.status(201).json(toStorageObjectDto(object));
      } catch (error) {
        next(error);
      }
    },
  );

  routes.get('/files/:id', async (req, res, next) => {
    try {
      const id = req.params.id;
      if (!/^[0-9a-f-]{36}$/.test(id)) return void res.status(404).json({ error: 'Not found' });
      const user = await sessionUser(deps, req, res);
      const object = await findServableFile(deps.orm.em.fork(), id, {
        userId: user?.id ?? null,
        exp: typeof req.query.exp === 'string' ? req.query.exp : undefined,
        sig: typeof req.query.sig === 'string' ? req.query.sig : undefined,
      });
      if (!object) return void res.status(404).json({ error: 'Not found' });
      const png = pngRequest(req.query);
      if (png && 'error' in png) return void res.status(400).json({ error: png.error });
      if (png) {
        if (object.contentType !== 'image/svg+xml') {
          return void res.status(415).json({ error: 'Only SVG files can be downloaded as PNG' });
        }
        const chunks: Buffer[] = [];
        for await (const chunk of await deps.runtime.storage.read(object.key))
          chunks.push(Buffer.from(chunk));
        const body = await svgToPng(Buffer.concat(chunks), png.width).catch((error: unknown) => {
          if (error instanceof SvgRenderError) return null;
          throw error;
        });
        if (!body) return void res.status(422).json({ error: 'This SVG could not be rendered as PNG' });
        const name = `${object.name.replace(/\.svg$/i, '')}.png`;
        res.setHeader('Content-Type', 'image/png');
        res.setHeader('Content-Length', String(body.length));
        res.setHeader('Cache-Control', 'private, max-age=3600');
        res.setHeader('ETag', `"${object.sha256}-png-${png.width}"`);
        res.setHeader(
          'Content-Disposition',
          contentDisposition(req.query.download ? 'attachment' : 'inline', name),
        );
        return void res.end(body);
      }
      const download = Boolean(req.query.download);
      // Downloads from S3 go straight to the bucket (a presigned URL, as an attachment, so nothing
      // renders on the bucket's origin); everything shown inline streams through here, under our
      // sandboxing CSP (see README, "Files").
      if (download && deps.config.storage.downloadRedirect) {
        const url = await deps.runtime.storage.downloadUrl(object.key, {
          name: object.name,
          contentType: object.contentType,
          expiresInSeconds: DOWNLOAD_LINK_SECONDS,
        });
        if (url) {
          res.setHeader('Cache-Control', 'private, no-store');
          return void res.redirect(302, url);
        }
      }
      const stream = await deps.runtime.storage.read(object.key);
      res.setHeader('Content-Type', object.contentType);
      res.setHeader('Content-Length', String(object.size));
      res.setHeader('Cache-Control', 'private, max-age=3600');
      res.setHeader('ETag', `"${object.sha256}"`);
      // Uploaded SVG or HTML must never run script in our origin.
      res.setHeader('Content-Security-Policy', FILE_CSP);
      res.setHeader(
        'Content-Disposition',
        contentDisposition(download ? 'attachment' : 'inline', object.name),
      );
      pipeline(stream, res).catch((error: unknown) => {
        // A reader that went away (premature close) is not an error; a store that failed mid-file is.
        if ((error as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
          deps.logger.warn({ err: error, id }, 'file stream failed');
        }
      });
    } catch (error) {
      next(error);
    }
  });

  return routes;
}
