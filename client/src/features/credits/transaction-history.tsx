// The ledger, newest first, a page at a time, filterable by type.
import { useState } from 'react';
import { CREDIT_TRANSACTION_TYPES, type CreditTransactionType } from '../../../../shared/schemas/credits.ts';
import { humanize } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { inputClass } from '../../ui/field.tsx';
import { Card, Empty } from '../../ui/layout.tsx';
import { LoadMore } from '../../ui/load-more.tsx';
import { QueryState } from '../../ui/query-state.tsx';
import { SkeletonRows } from '../../ui/skeleton.tsx';
import { LedgerTable } from './ledger-table.tsx';

export function TransactionHistory({ pageSize = 10 }: { pageSize?: number }) {
  const [type, setType] = useState<CreditTransactionType | ''>('');
  const history = trpc.credits.transactions.useInfiniteQuery(
    { limit: pageSize, ...(type ? { types: [type] } : {}) },
    { getNextPageParam: (page) => page.nextCursor },
  );
  return (
    <Card
      title="Transactions"
      actions={
        <label className="flex items-center gap-2 text-sm text-slate-600">
          <span className="sr-only">Filter by type</span>
          <select
            className={`${inputClass} w-auto`}
            value={type}
            onChange={(event) => setType(event.target.value as CreditTransactionType | '')}
          >
            <option value="">All types</option>
            {CREDIT_TRANSACTION_TYPES.map((value) => (
              <option key={value} value={value}>
                {humanize(value)}
              </option>
            ))}
          </select>
        </label>
      }
    >
      <QueryState
        query={history}
        skeleton={<SkeletonRows label="Loading transactions" />}
        isEmpty={(data) => data.pages[0]?.items.length === 0}
        empty={<Empty title="No transactions yet">Credits you receive and spend appear here.</Empty>}
      >
        {(data) => (
          <>
            <LedgerTable
              rows={data.pages.flatMap((page) => page.items)}
              label="Transactions"
              testId="transactions"
            />
            <LoadMore query={history} />
          </>
        )}
      </QueryState>
    </Card>
  );
}
