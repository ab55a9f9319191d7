// How responses leave the server: compression of what is built per request (tRPC JSON, /metrics,
// error bodies), the built client's files (precompressed at build time; hashed assets cached for a
// year, index.html revalidated), and the SPA fallback that gives every client route index.html
// (see README, "Serving").
import { readdirSync } from 'node:fs';
import { extname } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Request, RequestHandler, Response } from 'express';

/** Smaller bodies go out as they are: compression would not pay for its header and CPU. */
const COMPRESS_MIN_BYTES = 1024;
/** A body still growing past this is sent uncompressed as it comes (no unbounded buffering). */
const COMPRESS_MAX_BYTES = 4 * 1024 * 1024;
const COMPRESSIBLE =
  /^(?:text\/(?!event-stream)|application\/(?:json|javascript|xml)|application\/[\w.-]+\+json)/;

type Encoding = 'br' | 'gzip';
/**
 * The encoding to use for this request: Brotli, else gzip, when Accept-Encoding allows it (q > 0).
 * Parsed by hand: it runs on every request, and `req.acceptsEncodings` costs ~1 µs.
 */
export function acceptedEncoding(req: Request): Encoding | null {
  const header = req.headers['accept-encoding'];
  if (!header) return null;
  let gzip = false;
  for (const part of header.split(',')) {
    const [token = '', ...params] = part.split(';');
    const name = token.trim().toLowerCase();
    if (name !== 'br' && name !== 'gzip' && name !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    if (name === 'br' || name === '*') return 'br';
    gzip = true;
  }
  return gzip ? 'gzip' : null;
}

const varyOnEncoding = (res: Response) => {
  const vary = res.getHeader('Vary');
  if (vary === undefined) res.setHeader('Vary', 'Accept-Encoding');
  else if (!/accept-encoding|\*/i.test(String(vary))) res.setHeader('Vary', `${vary}, Accept-Encoding`);
};

/**
 * Compresses responses built per request with one synchronous call once the body is complete:
 * Brotli at quality 1 (or gzip at level 1 for clients without Brotli). Measured on the 2-core
 * machine (README, "Serving"): ~40 µs of CPU for a 7 KB JSON page, ~0.2 ms for 96 KB, where the
 * `compression` package's zlib streams cost ~180 µs even for a 65-byte body — and would compress
 * every tRPC response, whose length is unknown when its headers go out. Only bodies whose length
 * is not known up front (tRPC writes) or that are sent whole (`res.send`) are considered: streams
 * of known length (files, static assets) pass through, and so do SSE and HEAD.
 */
export function compressResponses(): RequestHandler {
  return (req, res, next) => {
    const encoding = req.method === 'HEAD' ? null : acceptedEncoding(req);
    if (!encoding) return next();
    // Node's write/end take (chunk?, encoding?, callback?) in several shapes: pass them on as given.
    const originalWrite = res.write;
    const originalEnd = res.end;
    const write = originalWrite as unknown as (this: Response, ...args: unknown[]) => boolean;
    const end = originalEnd as unknown as (this: Response, ...args: unknown[]) => Response;
    let chunks: Buffer[] | null = null;
    let size = 0;
    const restore = () => {
      res.write = originalWrite;
      res.end = originalEnd;
    };
    const compressible = () =>
      !res.headersSent &&
      res.statusCode !== 204 &&
      res.statusCode !== 304 &&
      !res.getHeader('Content-Encoding') &&
      COMPRESSIBLE.test(String(res.getHeader('Content-Type') ?? ''));
    const toBuffer = (chunk: unknown, enc?: BufferEncoding) =>
      Buffer.isBuffer(chunk)
        ? chunk
        : typeof chunk === 'string'
          ? Buffer.from(chunk, enc)
          : Buffer.from(chunk as Uint8Array);

    res.write = function writeBuffered(this: Response, chunk: unknown, ...rest: unknown[]) {
      if (chunks === null) {
        // A stream of known length (a file) or one that is not compressible: leave it alone.
        if (!compressible() || res.getHeader('Content-Length') !== undefined) {
          restore();
          return write.call(this, chunk, ...rest);
        }
        chunks = [];
      }
      const enc = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined;
      const buffer = toBuffer(chunk, enc);
      chunks.push(buffer);
      size += buffer.length;
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      if (size > COMPRESS_MAX_BYTES) {
        const pending = chunks;
        restore();
        for (const part of pending.slice(0, -1)) write.call(this, part);
        return write.call(this, buffer, callback);
      }
      if (callback) process.nextTick(callback);
      return true;
    } as unknown as Response['write'];

    res.end = function endCompressed(this: Response, ...args: unknown[]) {
      restore();
      const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      const chunk = typeof args[0] === 'function' ? undefined : args[0];
      const enc = typeof args[1] === 'string' ? (args[1] as BufferEncoding) : undefined;
      if (chunks === null && !compressible()) return end.apply(this, args);
      const parts = chunk == null ? (chunks ?? []) : [...(chunks ?? []), toBuffer(chunk, enc)];
      const body = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
      varyOnEncoding(res);
      if (body.length < COMPRESS_MIN_BYTES) {
        res.setHeader('Content-Length', body.length);
        return end.call(this, body, callback);
      }
      const compressed =
        encoding === 'br'
          ? brotliCompressSync(body, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: 1,
                [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
              },
            })
          : gzipSync(body, { level: 1 });
      res.setHeader('Content-Encoding', encoding);
      res.setHeader('Content-Length', compressed.length);
      return end.call(this, compressed, callback);
    } as unknown as Response['end'];
    next();
  };
}

/** Hashed file names change with their content: a browser may keep them forever. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The files of a build directory (read once: a build does not change under a running server). */
function listFiles(dir: string): Set<string> {
  try {
    return new Set(
      (readdirSync(dir, { recursive: true }) as string[]).map((path) => path.split('\\').join('/')),
    );
  } catch {
    return new Set();
  }
}

/** Sends `name` from `dir`, or its .br / .gz copy when there is one the browser takes. */
function sendBuilt(
  req: Request,
  res: Response,
  next: (error?: unknown) => void,
  { dir, files, name, cacheControl }: { dir: string; files: Set<string>; name: string; cacheControl: string },
) {
  varyOnEncoding(res);
  const encoding = acceptedEncoding(req);
  const file =
    encoding && files.has(`${name}.${encoding === 'br' ? 'br' : 'gz'}`)
      ? `${name}.${encoding === 'br' ? 'br' : 'gz'}`
      : name;
  if (file !== name) res.setHeader('Content-Encoding', encoding as Encoding);
  res.type(extname(name));
  res.sendFile(
    file,
    { root: dir, headers: { 'Cache-Control': cacheControl }, cacheControl: false },
    (error) => {
      if (error && !res.headersSent) next(error);
    },
  );
}

/**
 * GET /assets/*: the build's hashed files, as .br or .gz when the browser takes it, cached as
 * immutable. A file that is not there — or a source map, or a compressed copy asked for by name —
 * is a 404, never index.html.
 */
export function clientAssets(dir: string): RequestHandler {
  const files = listFiles(dir);
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    let name = '';
    try {
      name = decodeURIComponent(req.path.slice(1));
    } catch {}
    if (!files.has(name) || /\.(br|gz|map)$/.test(name)) {
      return void res.status(404).set('Cache-Control', 'no-store').json({ error: 'Not found' });
    }
    sendBuilt(req, res, next, { dir, files, name, cacheControl: IMMUTABLE });
  };
}

/**
 * The paths the server answers itself; every other GET is a client route and gets index.html. Only
 * these, so a client page whose path starts like one (`/files`, `/healthy`) still loads the app.
 */
const SERVER_PATHS =
  /^\/(?:trpc(?:\/|$)|uploads\/?$|files\/|webhooks\/|health\/?$|ready\/?$|metrics\/?$|auth\/oauth\/|assets\/)/;

export function spaFallback(dir: string): RequestHandler {
  const files = listFiles(dir);
  return (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || SERVER_PATHS.test(req.path)) return next();
    // Revalidated on every visit: a deploy's new index.html (naming new hashed assets) is seen at once.
    sendBuilt(req, res, next, { dir, files, name: 'index.html', cacheControl: 'no-cache' });
  };
}
