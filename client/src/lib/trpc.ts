// The one typed API client. Its types come from the server's router by a type-only import: no
// server code reaches the bundle. Queries and mutations go batched over HTTP; subscriptions over
// SSE. Every request carries the CSRF header the server requires for cookie-authenticated mutations.
import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import { createTRPCReact, getQueryKey, type inferReactQueryProcedureOptions } from '@trpc/react-query';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import superjson from 'superjson';
import type { AppRouter } from '../../../server/router.ts';
import { CSRF_HEADER } from '../../../shared/errors.ts';

export const trpc = createTRPCReact<AppRouter>();

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type ReactQueryOptions = inferReactQueryProcedureOptions<AppRouter>;

export function createTrpcClient() {
  return trpc.createClient({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: '/trpc', transformer: superjson }),
        false: httpBatchLink({
          url: '/trpc',
          transformer: superjson,
          maxURLLength: 4000,
          headers: () => ({ [CSRF_HEADER]: '1' }),
        }),
      }),
    ],
  });
}

const isClientError = (error: unknown): error is TRPCClientError<AppRouter> =>
  error instanceof TRPCClientError;

/** The tRPC code of a failed call (e.g. 'UNAUTHORIZED'), or null for network failures. */
export const errorCode = (error: unknown) => (isClientError(error) ? (error.data?.code ?? null) : null);

/** Field issues the server returned (zod issues by dotted path, or a domain error's fields). */
export const fieldErrorsOf = (error: unknown): Record<string, string[]> =>
  (isClientError(error) ? error.data?.fieldErrors : null) ?? {};

/** The cache key of auth.me: who is signed in (null for no one). */
export const meQueryKey = getQueryKey(trpc.auth.me, undefined, 'query');

/**
 * Set when the server stopped recognising a session this tab had (revoked elsewhere, expired):
 * the sign-in page then says why, and sends the user back where they were.
 */
export const session = { ended: false };

/**
 * Any call refused as UNAUTHORIZED while someone is signed in may mean the session is gone: ask
 * auth.me again. If it answers "no one", the app's guard sends the user to sign in (and back).
 * A wrong current password is also UNAUTHORIZED, but then auth.me still answers the user.
 */
function watchSession(queryClient: QueryClient, error: unknown, key?: readonly unknown[]) {
  if (errorCode(error) !== 'UNAUTHORIZED') return;
  if (key && JSON.stringify(key) === JSON.stringify(meQueryKey)) return;
  checkSession(queryClient);
}

/** The server refused us as no one (a call, or the live stream it ended): is the session gone? */
export function checkSession(queryClient: QueryClient) {
  if (!queryClient.getQueryData(meQueryKey)) return;
  // Presumed ended until auth.me says otherwise, so the guard that sees "no one" knows why.
  session.ended = true;
  void queryClient.refetchQueries({ queryKey: meQueryKey, exact: true }).then(() => {
    if (queryClient.getQueryData(meQueryKey)) session.ended = false;
  });
}

export function createQueryClient() {
  const queryClient: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError: (error, query) => watchSession(queryClient, error, query.queryKey),
    }),
    mutationCache: new MutationCache({ onError: (error) => watchSession(queryClient, error) }),
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: true,
        // A 4xx will not fix itself by retrying; a dropped connection may.
        retry: (failures, error) => errorCode(error) === null && failures < 2,
      },
      mutations: { retry: false },
    },
  });
  return queryClient;
}
