// The /trpc endpoint. Queries and mutations — one call or a batch, as httpBatchLink sends them —
// are answered here: the input read once, the context created once per request, each call run
// through its procedure (the whole middleware chain, as tRPC's own adapter runs it), and the
// answer written as one JSON body with its Content-Length, in one socket write.
//
// Why not tRPC's createExpressMiddleware for these: it translates every request into the Fetch API
// (a URL, Headers, a Request with a ReadableStream body, an AbortController with a 'close' listener
// that builds a DOMException when the socket closes) and streams the answer back through a
// WritableStream as a chunked body (a second socket write for the terminating chunk). On the bench's
// balance read that was about a third of the server's CPU per request (README, Performance).
// Subscriptions (SSE), jsonl streaming, multipart/octet-stream bodies, HEAD and other rarities still
// go to tRPC's adapter. test/trpc/http.test.ts holds both to the same status, headers and bodies.
import {
  type AnyTRPCProcedure,
  type AnyTRPCRouter,
  getErrorShape,
  getTRPCErrorFromUnknown,
  TRPCError,
} from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import { getHTTPStatusCode } from '@trpc/server/http';
import type { Request, RequestHandler, Response } from 'express';
import superjson from 'superjson';
import { serializeOutput } from './serialize.ts';

type ProcedureType = 'query' | 'mutation' | 'subscription';
type CallType = ProcedureType | 'unknown';

export type TrpcErrorEvent<TContext> = {
  error: TRPCError;
  type: CallType;
  path: string | undefined;
  input: unknown;
  ctx: TContext | undefined;
  req: Request;
};

export type TrpcHandlerOptions<TRouter extends AnyTRPCRouter, TContext> = {
  router: TRouter;
  createContext: (opts: { req: Request; res: Response }) => Promise<TContext>;
  onError?: (event: TrpcErrorEvent<TContext>) => void;
  /** Extra response headers from the calls' errors (tRPC's responseMeta, the part we use). */
  responseMeta?: (opts: { errors: TRPCError[] }) => { headers?: Record<string, string> };
  maxBodySize: number;
};

const ACCEPTED_METHODS: Record<ProcedureType, string> = {
  query: 'GET',
  mutation: 'POST',
  subscription: 'GET',
};

type Plan = {
  isBatch: boolean;
  paths: string[];
  procedures: (AnyTRPCProcedure | null)[];
  /** The calls' procedure type (tRPC refuses a batch that mixes them: left to its adapter). */
  type: CallType;
  inputParam: string | null;
};

type CallResult = { error: TRPCError; data?: undefined } | { error: null; data: unknown };

const isObject = (value: unknown): value is Record<string, unknown> =>
  !!value && !Array.isArray(value) && typeof value === 'object';
const isPromiseLike = (value: unknown) => isObject(value) && typeof value.then === 'function';
const isAsyncIterable = (value: unknown) => isObject(value) && Symbol.asyncIterator in value;
/** tRPC's check: a stream-like result cannot be sent in a plain JSON response. */
function isDataStream(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (isAsyncIterable(value)) return true;
  for (const key in value) {
    const inner = value[key];
    if (typeof inner === 'object' && inner !== null && (isPromiseLike(inner) || isAsyncIterable(inner)))
      return true;
  }
  return false;
}

export function createTrpcHandler<TRouter extends AnyTRPCRouter, TContext>(
  options: TrpcHandlerOptions<TRouter, TContext>,
): RequestHandler {
  const { router, createContext, onError, responseMeta, maxBodySize } = options;
  const fallback = createExpressMiddleware({
    router,
    createContext: ({ req, res }) => createContext({ req, res }),
    maxBodySize,
    allowMethodOverride: false,
    onError: onError as never,
    responseMeta: responseMeta as never,
  });
  const config = router._def._config;
  const procedures = router._def.procedures as Record<string, AnyTRPCProcedure | undefined>;
  // superjson's own serialize for errors; results through serializeOutput (the same output, faster
  // for flat objects) when the router's transformer is superjson.
  const serializeError = (value: unknown) => config.transformer.output.serialize(value);
  const serializeResult =
    config.transformer.output.serialize === superjson.serialize ? serializeOutput : serializeError;

  /** The request as the calls this handler answers, or null for tRPC's adapter. */
  const planOf = (req: Request): Plan | null => {
    if (req.method !== 'GET' && req.method !== 'POST') return null;
    const contentType = req.headers['content-type'];
    if (contentType !== undefined && !contentType.startsWith('application/json')) return null;
    const trpcAccept = req.headers['trpc-accept'];
    if (trpcAccept === 'application/jsonl') return null;
    if (
      trpcAccept === undefined &&
      req.headers.accept?.split(',').some((t) => t.trim() === 'application/jsonl')
    )
      return null;
    // A body some parser already read (tRPC's adapter knows what to do with it).
    if ('body' in (req as object)) return null;
    const url = req.url;
    const queryAt = url.indexOf('?');
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
    let path: string;
    try {
      path = decodeURIComponent(pathname.slice(pathname.lastIndexOf('/') + 1));
    } catch {
      return null;
    }
    const search = queryAt === -1 ? null : new URLSearchParams(url.slice(queryAt + 1));
    if (search?.has('connectionParams')) return null;
    const isBatch = search?.get('batch') === '1';
    const paths = isBatch ? path.split(',') : [path];
    const found = paths.map((p) => procedures[p] ?? null);
    let type: CallType = 'unknown';
    for (const procedure of found) {
      const own = procedure?._def.type as ProcedureType | undefined;
      if (!own) continue;
      if (own === 'subscription' || (type !== 'unknown' && type !== own)) return null;
      type = own;
    }
    return { isBatch, paths, procedures: found, type, inputParam: search?.get('input') ?? null };
  };

  const handle = async (req: Request, res: Response, plan: Plan) => {
    const { isBatch, paths } = plan;

    // The body is read from the start, as tRPC's adapter does (into a stream it parses when asked).
    const body = req.method === 'POST' ? readBody(req, maxBodySize) : null;
    body?.catch(() => {}); // (its failure is the calls' to report, if one reads the input)
    // The inputs, parsed and deserialised once, on the first call that asks (as tRPC does).
    let inputs: Promise<Record<number, unknown>> | undefined;
    let readInputs: Record<number, unknown> | undefined;
    const loadInputs = async (): Promise<Record<number, unknown>> => {
      let raw: unknown;
      if (req.method === 'GET') {
        if (plan.inputParam) raw = JSON.parse(plan.inputParam);
      } else {
        raw = JSON.parse(await (body as Promise<string>));
      }
      if (raw === undefined) return {};
      const deserialize = config.transformer.input.deserialize;
      if (!isBatch) return { 0: deserialize(raw) };
      if (!isObject(raw)) {
        throw new TRPCError({
          code: 'BAD_REQUEST',
          message: '"input" needs to be an object when doing a batch call',
        });
      }
      const byIndex: Record<number, unknown> = {};
      for (let index = 0; index < paths.length; index++) {
        const value = raw[index];
        if (value !== undefined) byIndex[index] = deserialize(value);
      }
      return byIndex;
    };
    const inputAt = async (index: number) => {
      inputs ??= loadInputs().then(
        (value) => {
          readInputs = value;
          return value;
        },
        (cause: unknown) => {
          if (cause instanceof TRPCError) throw cause;
          throw new TRPCError({
            code: 'BAD_REQUEST',
            message: cause instanceof Error ? cause.message : 'Invalid input',
            cause,
          });
        },
      );
      return (await inputs)[index];
    };

    let ctx: TContext | undefined;
    let ctxError: TRPCError | undefined;
    try {
      ctx = await createContext({ req, res });
    } catch (cause) {
      ctxError = getTRPCErrorFromUnknown(cause);
    }

    // A GET without an input parameter: every call's input is undefined (nothing to parse).
    const noInput = body === null && plan.inputParam === null;
    const call = async (index: number): Promise<CallResult> => {
      const path = paths[index] as string;
      const procedure = plan.procedures[index];
      try {
        if (ctxError) throw ctxError;
        if (!procedure)
          throw new TRPCError({ code: 'NOT_FOUND', message: `No procedure found on path "${path}"` });
        const type = procedure._def.type as ProcedureType;
        if (ACCEPTED_METHODS[type] !== req.method) {
          throw new TRPCError({
            code: 'METHOD_NOT_SUPPORTED',
            message: `Unsupported ${req.method}-request to ${type} procedure at path "${path}"`,
          });
        }
        const data: unknown = await procedure({
          path,
          getRawInput: noInput ? readNoInput : () => inputAt(index),
          ctx,
          type,
          signal: undefined,
          batchIndex: index,
        });
        if (isDataStream(data)) {
          throw new TRPCError({
            code: 'UNSUPPORTED_MEDIA_TYPE',
            message: 'Cannot use stream-like response in non-streaming request - use httpBatchStreamLink',
          });
        }
        return { error: null, data };
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        onError?.({
          error,
          path,
          input: readInputs?.[index],
          ctx,
          type: (procedure?._def.type as ProcedureType | undefined) ?? 'unknown',
          req,
        });
        return { error };
      }
    };

    // A single call (every request of the bench, most of the client's): no arrays of results,
    // responses and serialised answers — the same steps on the one call.
    if (!isBatch) {
      const result = await call(0);
      const response = result.error
        ? {
            error: getErrorShape({
              config,
              ctx,
              error: result.error,
              input: readInputs?.[0],
              path: paths[0],
              type: plan.type,
            }),
          }
        : { result: { data: result.data } };
      const status = result.error ? getHTTPStatusCode(response as never) : 200;
      if (responseMeta) setHeaders(res, responseMeta({ errors: result.error ? [result.error] : [] }).headers);
      send(
        res,
        status,
        JSON.stringify(
          'error' in response
            ? { error: serializeError(response.error) }
            : { result: { data: serializeResult(result.data) } },
        ),
      );
      return;
    }

    const results = await Promise.all(paths.map((_, index) => call(index)));
    const responses = results.map((result, index) => {
      if (!result.error) return { result: { data: result.data } };
      const procedureType = plan.procedures[index]?._def.type as ProcedureType | undefined;
      return {
        error: getErrorShape({
          config,
          ctx,
          error: result.error,
          input: readInputs?.[index],
          path: paths[index],
          type: procedureType ?? 'unknown',
        }),
      };
    });
    const status = getHTTPStatusCode(responses as never);
    if (responseMeta) {
      const errors = results.flatMap((result) => (result.error ? [result.error] : []));
      setHeaders(res, responseMeta({ errors }).headers);
    }
    const serialized = responses.map((response) =>
      'error' in response
        ? { error: serializeError(response.error) }
        : { result: { data: serializeResult(response.result.data) } },
    );
    send(res, status, JSON.stringify(serialized));
  };

  return (req, res, next) => {
    const plan = planOf(req);
    if (!plan) {
      fallback(req, res, next);
      return;
    }
    handle(req, res, plan).catch((cause: unknown) => {
      // Only a defect of this handler gets here (procedures' failures are answered above).
      const error = getTRPCErrorFromUnknown(cause);
      onError?.({ error, type: 'unknown', path: undefined, input: undefined, ctx: undefined, req });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const shape = getErrorShape({
        config,
        error,
        type: 'unknown',
        path: undefined,
        input: undefined,
        ctx: undefined,
      });
      send(res, shape.data.httpStatus, JSON.stringify({ error: serializeError(shape) }));
    });
  };
}

const readNoInput = () => Promise.resolve(undefined);

function setHeaders(res: Response, headers: Record<string, string> | undefined) {
  if (!headers) return;
  for (const name in headers) res.setHeader(name, headers[name] as string);
}

function send(res: Response, status: number, body: string) {
  // As tRPC's adapter: a status set earlier (other than the default) wins.
  if (res.statusCode === 200) res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('vary', 'trpc-accept, accept');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/** The request body as text, refused past `limit` bytes (as tRPC: PAYLOAD_TOO_LARGE). */
function readBody(req: Request, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      cleanup();
      reject(new TRPCError({ code: 'PAYLOAD_TOO_LARGE' }));
    };
    const onEnd = () => {
      cleanup();
      const text =
        chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
      // As the Fetch API's body.json(): a UTF-8 byte order mark is not part of the text.
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
