// HTTP routes beside tRPC: POST /uploads (raw body, size- and type-checked) and GET /files/:id
// (the owner's session, or a signed expiring link); `?format=png[&width=N]` serves an SVG file as
// PNG, rendered on the server (svg-png.ts).

import { parse as parseCookies } from 'cookie';
import express, { type Request, type Router } from 'express';
import { SESSION_COOKIE } from '../../../shared/errors.ts';
import { UPLOAD_CONTENT_TYPES, UPLOAD_MAX_BYTES } from '../../../shared/schemas/storage.ts';
import { authenticateSession, type Deps } from '../../trpc/context.ts';
import { toStorageObjectDto } from './storage.dto.ts';
import { findServableFile, storeFile } from './storage.service.ts';
import { PNG_WIDTH_DEFAULT, PNG_WIDTH_MAX, SvgRenderError, svgToPng } from './svg-png.ts';

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
        res.locals.uploader = { userId: user.id, contentType };
        next();
      } catch (error) {
        next(error);
      }
    },
    express.raw({ type: () => true, limit: UPLOAD_MAX_BYTES }),
    async (req, res, next) => {
      try {
        const { userId, contentType } = res.locals.uploader as { userId: string; contentType: string };
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        if (body.length === 0) return void res.status(400).json({ error: 'The file is empty' });
        const name =
          String(req.query.name ?? 'upload')
            .replace(/[\\/\0]/g, '_')
            .slice(0, 255) || 'upload';
        const object = await deps.orm.em.fork().transactional(async (tx) => {
          const stored = await storeFile(tx, deps.runtime.storage, { userId, name, contentType, body });
          await tx.flush();
          return stored;
        });
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
          `${req.query.download ? 'attachment' : 'inline'}; filename*=UTF-8''${encodeURIComponent(name)}`,
        );
        return void res.end(body);
      }
      const stream = await deps.runtime.storage.read(object.key);
      res.setHeader('Content-Type', object.contentType);
      res.setHeader('Content-Length', String(object.size));
      res.setHeader('Cache-Control', 'private, max-age=3600');
      res.setHeader('ETag', `"${object.sha256}"`);
      // Uploaded SVG or HTML must never run script in our origin.
      res.setHeader(
        'Content-Security-Policy',
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
      );
      const disposition = req.query.download ? 'attachment' : 'inline';
      res.setHeader(
        'Content-Disposition',
        `${disposition}; filename*=UTF-8''${encodeURIComponent(object.name)}`,
      );
      stream.pipe(res);
    } catch (error) {
      next(error);
    }
  });

  return routes;
}
