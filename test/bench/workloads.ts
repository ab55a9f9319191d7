// What the bench measures: one entry per workload. Each runs against Forgeline and against the
// baseline server (test/bench/baseline-server.ts), which implements the same `METHOD path` with the
// same SQL. Targets come from SPEC.md §13.
//
// Adding a workload: an entry here, the same route in baseline-server.ts issuing the same
// statements (compare the "statements per request" lists the bench prints for both), and, for a
// write, enough seeded credits (BENCH_BALANCE in run.ts).
import { randomUUID } from 'node:crypto';
import { DEFAULT_FEATURE_COSTS } from '../../shared/defaults.ts';
import { CSRF_HEADER } from '../../shared/errors.ts';
import type { BenchUser } from './database.ts';

export type Workload = {
  name: string;
  kind: 'read' | 'write';
  method: 'GET' | 'POST';
  path: string;
  headers(user: BenchUser): Record<string, string>;
  /** The request body; called once per request (a write gets a fresh idempotency key each time). */
  body?(user: BenchUser): string;
  /** Checks a sample response (status and parsed body) from each server before the load runs. */
  check(status: number, body: unknown): string | null;
  /** The parts of a sample response both servers must agree on (volatile ids and times dropped). */
  comparable(body: unknown): unknown;
  /** Tables a successful request adds exactly one row to (counted around each measured run). */
  writes?: string[];
  targets: {
    /** Forgeline's median req/s over the baseline's, at least. */
    ratio: number;
    /** p99 at 75 % of Forgeline's peak, at most. */
    p99Ms: number;
    /** Database statements per request, at most (a read: session lookup + one query). */
    statementsPerRequest?: number;
    /** Forgeline's Node CPU per request over the baseline's, at most. */
    cpuRatio?: number;
  };
};

type TrpcSuccess = { result?: { data?: { json?: Record<string, unknown>; meta?: unknown } } };
const jsonOf = (body: unknown) => (body as TrpcSuccess)?.result?.data?.json;

/** generations.create's input: a one-output logo (the seeded settings charge the default cost). */
export const LOGO_INPUT = {
  appName: 'Bench',
  appFocus: 'benchmarks',
  color1: '#4f46e5',
  color2: '#f59e0b',
} as const;

export const workloads: Workload[] = [
  {
    name: 'credits.balance',
    kind: 'read',
    method: 'GET',
    path: '/trpc/credits.balance',
    headers: (user) => ({ cookie: user.cookie }),
    check: (status, body) =>
      status === 200 && typeof jsonOf(body)?.balance === 'number'
        ? null
        : `expected 200 with a balance, got ${status}`,
    comparable: (body) => body,
    targets: { ratio: 0.7, p99Ms: 25, statementsPerRequest: 2, cpuRatio: 2 },
  },
  {
    name: 'generations.create',
    kind: 'write',
    method: 'POST',
    path: '/trpc/generations.create',
    headers: (user) => ({ cookie: user.cookie, 'content-type': 'application/json', [CSRF_HEADER]: '1' }),
    // tRPC's non-batched mutation body: the superjson-serialised input.
    body: () =>
      JSON.stringify({
        json: { kind: 'logo', input: LOGO_INPUT, outputCount: 1, idempotencyKey: `bench-${randomUUID()}` },
      }),
    check: (status, body) => {
      const json = jsonOf(body);
      const cost = DEFAULT_FEATURE_COSTS.logo_generation;
      return status === 200 && json?.status === 'queued' && json.creditsCharged === cost
        ? null
        : `expected 200 with a queued generation charged ${cost} credit(s), got ${status}`;
    },
    comparable: (body) => {
      const data = (body as TrpcSuccess)?.result?.data;
      const { id: _id, createdAt: _createdAt, ...rest } = data?.json ?? {};
      return { json: rest, meta: data?.meta };
    },
    // The price is held (one credit_holds row), not spent: no ledger row until the generation succeeds.
    writes: ['generations', 'credit_holds', 'pgboss.job'],
    // Session read, begin, the one create statement (generation, hold, job), commit (≤ 6: SPEC §14).
    targets: { ratio: 0.75, p99Ms: 50, statementsPerRequest: 6 },
  },
];
