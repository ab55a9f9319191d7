// The Express app, in the order a request meets it: request id and log, the malformed-URL guard,
// security headers (helmet's, worked out once), compression; /health and /ready; the modules' own
// HTTP routes (/metrics, /uploads and /files, provider and payment webhooks, OAuth); /trpc behind
// the CSRF guard, answered by our handler (trpc/http.ts) — `/trpc/…` reaches it through a fast path
// past Express's router, with the same middlewares (trpcFastPath); the client (built files — serving.ts — or
// Vite in dev mode); a JSON 404; the error handler (a client error keeps its status, an unreachable
// database is a 503 with Retry-After, anything else a logged 500).
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '@mikro-orm/postgresql';
import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import helmet, { type HelmetOptions } from 'helmet';
import { rejectMalformedUrl } from './common/http-guards.ts';
import type { Logger } from './common/logger.ts';
import type { Config } from './config.ts';
import { migrationsApplied } from './db/orm.ts';
import { sqlOutsideTransaction } from './db/sql.ts';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE } from './db/unavailable.ts';
import { paymentWebhookRoutes } from './modules/billing/webhooks.http.ts';
import { providerWebhookRoutes } from './modules/generations/provider-webhooks.http.ts';
import { createHttpContextFactory } from './modules/identity/http-context.ts';
import { oauthRoutes } from './modules/identity/oauth.http.ts';
import { metricsRoutes } from './modules/metrics/metrics.http.ts';
import { storageRoutes } from './modules/storage/storage.http.ts';
import { appRouter } from './router.ts';
import type { Runtime } from './runtime.ts';
import { clientAssets, compressResponses, spaFallback } from './serving.ts';
import { trpcRequestGuard } from './trpc/csrf.ts';
import { createTrpcHandler } from './trpc/http.ts';

export const ROOT_DIR = fileURLToPath(new URL('..', import.meta.url));
export const CLIENT_DIST = join(ROOT_DIR, 'dist', 'client');
const MAX_BODY_BYTES = 1024 * 1024;

export type AppOptions = {
  orm: MikroORM;
  config: Config;
  logger: Logger;
  runtime: Runtime;
  /** Serve the client through Vite's dev server (hot reload) instead of dist/client. */
  dev?: boolean;
  /** The built client to serve (default dist/client; tests serve a fixture). */
  clientDir?: string;
};

export async function createApp({
  orm,
  config,
  logger,
  runtime,
  dev = false,
  clientDir = CLIENT_DIST,
}: AppOptions) {
  const deps = { orm, config, logger, runtime };
  const app = express();
  app.disable('x-powered-by');
  // Only a proxy we were told about may set the client address (per-IP limits, sessions, audit).
  app.set('trust proxy', config.trustProxy);
  // What every request passes through first, in order (also run by the /trpc fast path below).
  const front: RequestHandler[] = [requestId, requestLog(logger), rejectMalformedUrl];
  const https = config.publicUrl.startsWith('https:');
  if (config.instanceName) {
    // Which process answered (npm run cluster names them): lets a balancer's spread be observed.
    const instance = config.instanceName;
    front.push((_req, res, next) => {
      res.setHeader('X-Forgeline-Instance', instance);
      next();
    });
  }
  front.push(
    securityHeaders({
      contentSecurityPolicy: dev
        ? false
        : {
            directives: {
              'default-src': ["'self'"],
              'img-src': ["'self'", 'data:', 'blob:'],
              'style-src': ["'self'", "'unsafe-inline'"],
              'object-src': ["'none'"],
              'base-uri': ["'none'"],
              'frame-ancestors': ["'none'"],
              // Over plain http (a LAN address, a dev box) upgrading would load every asset from an
              // https origin that is not there: only an https deployment asks for it.
              'upgrade-insecure-requests': https ? [] : null,
            },
          },
      strictTransportSecurity: config.sessionCookieSecure,
      // Browsers ignore COOP on an untrustworthy (plain http, non-localhost) origin, and say so in
      // the console: send it where it means something.
      crossOriginOpenerPolicy: https,
    }),
  );
  front.push(compressResponses());
  app.use(...front);

  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/ready', async (_req, res) => {
    try {
      await sqlOutsideTransaction(orm.em, 'select 1');
      const migrated = await migrationsApplied(orm);
      res.status(migrated ? 200 : 503).json({ ok: migrated, database: true, migrations: migrated });
    } catch {
      res.status(503).json({ ok: false, database: false });
    }
  });

  app.use(metricsRoutes(deps));
  app.use(storageRoutes(deps));
  app.use(providerWebhookRoutes(deps));
  app.use(paymentWebhookRoutes(deps));
  app.use(oauthRoutes(deps));

  const trpc: RequestHandler[] = [
    trpcRequestGuard,
    createTrpcHandler({
      router: appRouter,
      createContext: createHttpContextFactory(deps),
      maxBodySize: MAX_BODY_BYTES,
      // While the database is unreachable calls answer 503; tell clients when to come back.
      responseMeta: ({ errors }) =>
        errors.some((error) => error.code === 'SERVICE_UNAVAILABLE')
          ? { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } }
          : {},
      onError({ error, path, ctx }) {
        if (error.code === 'INTERNAL_SERVER_ERROR' && !ctx) {
          logger.error({ err: error.cause ?? error, path }, 'request failed before reaching a procedure');
        }
      },
    }),
  ];
  app.use('/trpc', ...trpc);

  if (dev) {
    const { createServer } = await import('vite');
    const vite = await createServer({
      configFile: join(ROOT_DIR, 'client', 'vite.config.ts'),
      server: { middlewareMode: true },
      appType: 'spa',
    });
    app.use(vite.middlewares);
  } else if (existsSync(clientDir)) {
    app.use('/assets', clientAssets(join(clientDir, 'assets')));
    app.use(spaFallback(clientDir));
  }

  app.use((_req, res) => {
    res.status(404).json({ error: 'Not found' });
  });
  const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
    // Client errors raised by body parsers (too large, malformed) carry their own status.
    const status = (error as { status?: number; expose?: boolean }).status;
    if (status && status >= 400 && status < 500 && (error as { expose?: boolean }).expose) {
      if (!res.headersSent) res.status(status).json({ error: (error as Error).message, requestId: req.id });
      return;
    }
    if (isDatabaseUnavailable(error)) {
      logger.warn({ err: error, requestId: req.id }, 'database unavailable');
      if (!res.headersSent) {
        res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
        res.status(503).json({ error: UNAVAILABLE_MESSAGE, requestId: req.id });
      }
      return;
    }
    logger.error({ err: error, requestId: req.id }, 'unhandled request error');
    if (!res.headersSent) res.status(500).json({ error: 'Internal error', requestId: req.id });
  };
  app.use(errorHandler);
  trpcFastPath(app, front, trpc, errorHandler);
  expressPrototypesFromTheStart(app);
  return app;
}

/**
 * /trpc/… without Express's router: the same middlewares as the routed path (`front`, then the
 * `/trpc` mount's handlers), in the same order, with the request set up as Express sets it up
 * (prototypes, originalUrl, baseUrl and url under the mount). Express's router walks ~15 layers
 * per request (path matching at each) before reaching /trpc: ~3 % of a balance read's CPU (bench
 * profile, README Performance). Anything else — other paths, `/TRPC/…` (Express matches paths
 * case-insensitively) — goes through Express as before; errors reach the same error handler.
 */
function trpcFastPath(
  app: Express,
  front: RequestHandler[],
  trpc: RequestHandler[],
  errorHandler: ErrorRequestHandler,
) {
  const express5 = app as unknown as { handle: (req: Request, res: Response, callback?: unknown) => void };
  const routed = express5.handle.bind(app);
  const chain = [...front, null, ...trpc];
  express5.handle = (req, res, callback) => {
    const url = req.url;
    if (callback !== undefined || !url.startsWith('/trpc/')) return routed(req, res, callback);
    // As Express's app.handle and its router's dispatch and mount. (A server from app.listen made
    // the objects with Express's prototypes already: see expressPrototypesFromTheStart.)
    req.res = res;
    res.req = req;
    if (Object.getPrototypeOf(req) !== app.request) Object.setPrototypeOf(req, app.request);
    if (Object.getPrototypeOf(res) !== app.response) Object.setPrototypeOf(res, app.response);
    if (!res.locals) res.locals = Object.create(null);
    req.originalUrl = url;
    req.baseUrl = '';
    req.params = {};
    let index = 0;
    const fail = (error: unknown) =>
      errorHandler(error, req, res, () => {
        if (!res.headersSent) res.status(500).end();
      });
    const next = (error?: unknown) => {
      if (error !== undefined && error !== null && error !== 'route' && error !== 'router')
        return fail(error);
      const handler = chain[index++];
      if (handler === undefined) return fail(new Error('the /trpc chain ended without an answer'));
      if (handler === null) {
        // The `/trpc` mount: Express strips the mount path from the url.
        req.baseUrl = '/trpc';
        req.url = url.slice(5);
        return next();
      }
      try {
        const returned = handler(req, res, next) as unknown;
        if (returned instanceof Promise)
          returned.catch((cause: unknown) => next(cause ?? new Error('rejected')));
      } catch (cause) {
        next(cause);
      }
    };
    req.next = next;
    next();
  };
}

/**
 * app.listen's server builds each request and response with Express's prototypes from the start,
 * rather than Express swapping the prototypes of Node's objects on every request (a prototype change
 * costs V8 a new hidden class per object: ~1 % of a balance read's CPU in the bench profile).
 * Otherwise as Express's own listen.
 */
function expressPrototypesFromTheStart(app: Express) {
  function ExpressRequest(this: unknown, ...args: unknown[]) {
    return Reflect.construct(IncomingMessage, args, ExpressRequest);
  }
  ExpressRequest.prototype = app.request;
  function ExpressResponse(this: unknown, ...args: unknown[]) {
    return Reflect.construct(ServerResponse, args, ExpressResponse);
  }
  ExpressResponse.prototype = app.response;
  app.listen = ((...args: unknown[]) => {
    const server = createServer(
      {
        IncomingMessage: ExpressRequest as unknown as typeof IncomingMessage,
        ServerResponse: ExpressResponse as unknown as typeof ServerResponse,
      },
      app,
    );
    const last = args.at(-1);
    if (typeof last === 'function') {
      let called = false;
      const done = (...results: unknown[]) => {
        if (called) return;
        called = true;
        last(...results);
      };
      args[args.length - 1] = done;
      server.once('error', done);
    }
    return server.listen(...(args as Parameters<typeof server.listen>));
  }) as Express['listen'];
}

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
  }
}

const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.get('x-request-id');
  req.id = incoming && /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
  res.setHeader('x-request-id', req.id);
  next();
};

/**
 * helmet's headers, worked out once at start: with our options they do not depend on the request,
 * so one loop of setHeader replaces helmet's chain of a dozen middlewares on every request. The
 * options stay helmet's (a function-valued directive, e.g. a nonce, would make this refuse to start).
 */
export function securityHeaders(options: HelmetOptions): RequestHandler {
  const csp = options.contentSecurityPolicy;
  const directives = typeof csp === 'object' ? Object.values(csp.directives ?? {}) : [];
  if (
    directives.some(
      (value) =>
        typeof value === 'function' || (Array.isArray(value) && value.some((v) => typeof v === 'function')),
    )
  ) {
    throw new Error(
      'securityHeaders: a per-request CSP directive needs helmet itself, not precomputed headers',
    );
  }
  const headers: [string, string][] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      if (typeof value !== 'string') throw new Error(`securityHeaders: ${name} is not a fixed string`);
      headers.push([name, value]);
    },
    removeHeader() {},
    getHeader: () => undefined,
  };
  let synchronous = false;
  helmet(options)({ method: 'GET', headers: {} } as never, recorder as never, (error?: unknown) => {
    if (error) throw error;
    synchronous = true;
  });
  if (!synchronous) throw new Error('securityHeaders: helmet did not finish synchronously');
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const entry = {
        requestId: req.id,
        method: req.method,
        url: req.originalUrl,
        status: res.statusCode,
        ms,
      };
      if (res.statusCode >= 500) logger.warn(entry, 'request');
      else logger.debug(entry, 'request');
    });
    next();
  };
}
