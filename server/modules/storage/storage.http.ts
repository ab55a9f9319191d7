// HTTP routes beside tRPC: POST /uploads (raw body streamed to the storage driver, size- and
// type-checked) and GET /files/:id (the owner's session, or a signed expiring link).

import { pipeline } from 'node:stream/promises';
import { parse as parseCookies } from 'cookie';
import express, { type Request, type Router } from 'express';
import { SESSION_COOKIE } from '../../../shared/errors.ts';
import { UPLOAD_CONTENT_TYPES, UPLOAD_MAX_BYTES } from '../../../shared/schemas/storage.ts';
import { authenticateSession, type Deps } from '../../trpc/context.ts';
import { toStorageObjectDto } from './storage.dto.ts';
import { discardFiles, FileTooLargeError, findServableFile, storeFile } from './storage.service.ts';
import { contentDisposition } from './storage-driver.ts';

/** Served files may not run script, load anything, or be framed into our origin's context. */
export const FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";
/** How long a presigned S3 download link lives (the redirect is followed at once). */
const DOWNLOAD_LINK_SECONDS = 300;

const refuseTooLarge = (res: express.Response) =>
  res
    .status(413)
    .set('Connection', 'close')
    .json({ error: `The file is larger than ${UPLOAD_MAX_BYTES / (1024 * 1024)} MiB` });

async function sessionUser(deps: Deps, req: Request, res: express.Response) {
  const sessionId = parseCookies(req.get('cookie') ?? '')[SESSION_COOKIE];
  if (!sessionId) return null;
  const identity = await authenticateSession(deps, sessionId, {
    set: (cookie) => res.appendHeader('Set-Cookie', cookie),
  });
  return identity.user;
}

export function storageRoutes(deps: Deps): Router {
  const routes = express.Router();

  routes.post(
    '/uploads',
    // Who, CSRF and type are checked before the body is read: a refused upload costs no bandwidth.
    async (req, res, next) => {
      try {
        const user = await sessionUser(deps, req, res);
        if (!user) return void res.status(401).json({ error: 'Sign in to upload' });
        // Same rule as tRPC mutations: a cross-site form cannot set this header.
        if (req.get('x-csrf-protection') !== '1') {
          return void res.status(403).json({ error: 'Missing the x-csrf-protection header' });
        }
        const contentType = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (!(UPLOAD_CONTENT_TYPES as readonly string[]).includes(contentType)) {
          return void res.status(415).json({ error: `Unsupported file type "${contentType || 'none'}"` });
        }
        // The body streams to the storage driver: refused up front when it says it is too large,
        // cut off when it turns out to be.
        const declared = Number(req.get('content-length') ?? Number.NaN);
        if (declared > UPLOAD_MAX_BYTES) return void refuseTooLarge(res);
        if (declared === 0) return void res.status(400).json({ error: 'The file is empty' });
        const name =
          String(req.query.name ?? 'upload')
            .replace(/[\\/\0]/g, '_')
            .slice(0, 255) || 'upload';
        // No transaction is open while the bytes arrive (a slow client holds no connection); the
        // row is written once they are stored, and the bytes removed if it cannot be.
        const em = deps.orm.em.fork();
        const object = await storeFile(em, deps.runtime.storage, {
          userId: user.id,
          name,
          contentType,
          body: req,
          maxBytes: UPLOAD_MAX_BYTES,
        }).catch((error: unknown) => {
          if (error instanceof FileTooLargeError) return 'too large' as const;
          // The uploader went away: nothing was stored and nobody is left to answer.
          if (!req.complete && req.destroyed) return 'aborted' as const;
          throw error;
        });
        if (object === 'aborted') return;
        if (object === 'too large') return void refuseTooLarge(res);
        if (object.size === 0) {
          await discardFiles(deps.runtime.storage, [object.key]);
          return void res.status(400).json({ error: 'The file is empty' });
        }
        try {
          await em.flush();
        } catch (error) {
          await discardFiles(deps.runtime.storage, [object.key]);
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
