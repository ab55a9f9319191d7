// HTTP routes beside tRPC: POST /uploads (a raw body, or multipart/form-data with one file; size-
// and type-checked) and GET /files/:id (the owner's session, or a signed expiring link);
// `?format=png[&width=N]` serves an SVG file as PNG, rendered on the server (svg-png.ts).

import busboy from 'busboy';
import { parse as parseCookies } from 'cookie';
import express, { type Request, type Router } from 'express';
import { SESSION_COOKIE } from '../../../shared/errors.ts';
import { UPLOAD_CONTENT_TYPES, UPLOAD_MAX_BYTES } from '../../../shared/schemas/storage.ts';
import { mediaTypeOf } from '../../common/http-guards.ts';
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

type ReceivedFile = { body: Buffer; contentType: string; name: string | null };

/**
 * Streams a multipart/form-data body through busboy and keeps its one file part (any field name;
 * its filename and Content-Type are the file's). It stops reading as soon as the file passes the
 * size limit, its type is refused, a second file starts, or the body as a whole grows past the
 * limit plus a little form overhead: at most UPLOAD_MAX_BYTES are ever held.
 */
function receiveMultipartFile(req: Request): Promise<ReceivedFile> {
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
    let file: ReceivedFile | null = null;
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
      reject(new UploadRefused(status, message));
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
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
      });
      stream.on('limit', () => refuse(413, TOO_LARGE));
      stream.on('end', () => {
        if (!stream.truncated)
          file = { body: Buffer.concat(chunks, size), contentType, name: info.filename ?? null };
      });
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
      settled = true;
      req.off('data', countBytes);
      if (!file) reject(new UploadRefused(400, 'The upload has no file'));
      else resolve({ ...file, name: file.name ?? nameField });
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
        res.locals.uploader = { userId: user.id, contentType };
        next();
      } catch (error) {
        next(error);
      }
    },
    express.raw({
      type: (req) => mediaTypeOf(req.headers['content-type']) !== MULTIPART,
      limit: UPLOAD_MAX_BYTES,
    }),
    async (req, res, next) => {
      try {
        const { userId, contentType } = res.locals.uploader as { userId: string; contentType: string };
        let upload: ReceivedFile;
        if (contentType === MULTIPART) {
          try {
            upload = await receiveMultipartFile(req);
          } catch (error) {
            if (!(error instanceof UploadRefused)) throw error;
            // The rest of the body is not read: close the connection instead of draining it.
            res.setHeader('Connection', 'close');
            return void res.status(error.status).json({ error: error.message });
          }
        } else {
          const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
          upload = { body, contentType, name: null };
        }
        if (upload.body.length === 0) return void res.status(400).json({ error: 'The file is empty' });
        const name = safeName(upload.name ?? req.query.name);
        const object = await deps.orm.em.fork().transactional(async (tx) => {
          const stored = await storeFile(tx, deps.runtime.storage, {
            userId,
            name,
            contentType: upload.contentType,
            body: upload.body,
          });
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
