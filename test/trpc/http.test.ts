// Our /trpc handler (server/trpc/http.ts) answers queries and mutations itself instead of going
// through tRPC's Fetch-API adapter: it must answer exactly as that adapter does — status, content
// type, vary and body — for single calls, batches, errors and bad requests alike.
import type { AddressInfo } from 'node:net';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpContextFactory } from '../../server/modules/identity/http-context.ts';
import { appRouter } from '../../server/router.ts';
import { createTrpcHandler } from '../../server/trpc/http.ts';
import { setupTestDatabase } from '../support/database.ts';

const db = setupTestDatabase();
const servers: { ours: string; trpc: string } = { ours: '', trpc: '' };
const closers: (() => void)[] = [];

beforeAll(async () => {
  const listen = async (handler: express.RequestHandler) => {
    const app = express();
    app.use('/trpc', handler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((ready) => server.once('listening', ready));
    closers.push(() => {
      server.close();
      server.closeAllConnections();
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/trpc`;
  };
  const options = { router: appRouter, createContext: createHttpContextFactory(db.deps), maxBodySize: 1024 };
  servers.ours = await listen(createTrpcHandler(options));
  servers.trpc = await listen(createExpressMiddleware({ ...options, allowMethodOverride: false }));
});
afterAll(() => {
  for (const close of closers) close();
});

// What differs between any two answers: the request id, and the server-side stack of an error.
const stable = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== 'requestId' && key !== 'stack')
        .map(([key, inner]) => [key, stable(inner)]),
    );
  }
  return value;
};

async function answerOf(base: string, path: string, init: RequestInit = {}) {
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    vary: response.headers.get('vary'),
    body: stable(body),
  };
}

const json = (value: unknown) => encodeURIComponent(JSON.stringify(value));
const post = (body: string, contentType = 'application/json'): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': contentType },
  body,
});

const cases: [string, string, RequestInit?][] = [
  ['a query', '/credits.costs'],
  ['a batch of queries', `/credits.costs,credits.costs?batch=1&input=${json({})}`],
  ['an unknown procedure', '/credits.nope'],
  ['a batch with an unknown procedure (207)', `/credits.costs,credits.nope?batch=1&input=${json({})}`],
  ['a query without its caller', '/credits.balance'],
  ['a query with bad input', `/credits.transactions?input=${json({ json: { limit: 0 } })}`],
  ['a query with unparsable input', '/credits.transactions?input=%7Bnope'],
  ['a batch whose input is not an object', `/credits.costs?batch=1&input=${json([1])}`],
  ['a mutation over GET', '/auth.signOut'],
  ['a query over POST', '/credits.costs', post('{}')],
  [
    'a mutation with bad input',
    '/auth.signIn',
    post(JSON.stringify({ json: { email: 'no', password: '' } })),
  ],
  ['a mutation with an unparsable body', '/auth.signIn', post('{"json":')],
  ['a mutation with an empty body', '/auth.signIn', post('')],
  ['a body over the size limit', '/auth.signIn', post(JSON.stringify({ json: { email: 'x'.repeat(2000) } }))],
  [
    'a batch of mutations',
    '/auth.signIn,auth.signIn?batch=1',
    post(JSON.stringify({ 0: { json: { email: 'a@b.test', password: 'x' } }, 1: { json: {} } })),
  ],
];

describe('our /trpc handler answers as tRPC’s adapter', () => {
  it.each(cases)('%s', async (_name, path, init) => {
    const ours = await answerOf(servers.ours, path, init);
    const theirs = await answerOf(servers.trpc, path, init);
    expect(ours).toEqual(theirs);
  });

  it('sends its answer with a Content-Length, in one piece', async () => {
    const response = await fetch(`${servers.ours}/credits.costs`);
    await response.arrayBuffer();
    expect(response.headers.get('content-length')).toMatch(/^\d+$/);
    expect(response.headers.get('transfer-encoding')).toBeNull();
  });
});
