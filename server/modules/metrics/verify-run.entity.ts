// The result of each db:verify run (the hourly `ledger-verify` job, or `npm run db:verify`), kept so
// /metrics can report ledger drift without re-running the checks on every scrape.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty, idProperty } from '../../common/entity-properties.ts';

export const VERIFY_RUN_SOURCES = ['job', 'cli'] as const;

export const VerifyRun = defineEntity({
  name: 'VerifyRun',
  tableName: 'verify_runs',
  properties: {
    id: idProperty(),
    source: p.enum(VERIFY_RUN_SOURCES),
    durationMs: p.integer(),
    /** Rows that broke an invariant, all checks together. */
    violations: p.integer(),
    /** Violating rows per check (every check present, 0 when it held). */
    byCheck: p.json<Record<string, number>>(),
    /** Credits by which balances differ from their ledgers, summed over users (|balance − Σ ledger|). */
    drift: p.bigint('number'),
    createdAt: createdAtProperty(),
  },
  indexes: [{ name: 'verify_runs_created_at_idx', properties: ['createdAt'] }],
});
export type VerifyRun = InferEntity<typeof VerifyRun>;
