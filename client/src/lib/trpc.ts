// The one typed API client. Its types come from the server's router by a type-only import: no
// server code reaches the bundle. Queries and mutations go batched over HTTP; subscriptions over
// SSE. Every request carries the CSRF header the server requires for cookie-authenticated mutations.
import { QueryClient } from '@tanstack/react-query';
import { httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import { createTRPCReact, type inferReactQueryProcedureOptions } from '@trpc/react-query';
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

export function createQueryClient() {
  return new QueryClient({
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
}
