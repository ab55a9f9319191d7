// The ledger, newest first, a page at a time, filterable by type.
import { useState } from 'react';
import { CREDIT_TRANSACTION_TYPES, type CreditTransactionType } from '../../../../shared/schemas/credits.ts';
import { formatDateTime, formatSigned, humanize } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { inputClass } from '../../ui/field.tsx';
import { Card, Empty, ErrorState, Loading } from '../../ui/layout.tsx';

export function TransactionHistory({ pageSize = 10 }: { pageSize?: number }) {
  const [type, setType] = useState<CreditTransactionType | ''>('');
  const history = trpc.credits.transactions.useInfiniteQuery(
    { limit: pageSize, ...(type ? { types: [type] } : {}) },
    { getNextPageParam: (page) => page.nextCursor },
  );
  const rows = history.data?.pages.flatMap((page) => page.items) ?? [];

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
      {history.isPending ? (
        <Loading />
      ) : history.error ? (
        <ErrorState error={history.error} retry={() => history.refetch()} />
      ) : rows.length === 0 ? (
        <Empty title="No transactions yet">Credits you receive and spend appear here.</Empty>
      ) : (
        <>
          <div className="-mx-5 overflow-x-auto">
            <table className="min-w-full text-sm" data-testid="transactions">
              <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
                <tr>
                  <th className="px-5 py-2 font-medium">When</th>
                  <th className="px-5 py-2 font-medium">What</th>
                  <th className="px-5 py-2 text-right font-medium">Amount</th>
                  <th className="px-5 py-2 text-right font-medium">Balance</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {rows.map((row) => (
                  <tr key={row.id}>
                    <td className="whitespace-nowrap px-5 py-2.5 text-slate-500">
                      {formatDateTime(row.createdAt)}
                    </td>
                    <td className="px-5 py-2.5">
                      <span className="font-medium text-slate-800">{humanize(row.type)}</span>
                      {row.description && <span className="ml-2 text-slate-500">{row.description}</span>}
                    </td>
                    <td
                      className={`px-5 py-2.5 text-right font-semibold tabular-nums ${row.amount < 0 ? 'text-slate-700' : 'text-emerald-600'}`}
                    >
                      {formatSigned(row.amount)}
                    </td>
                    <td className="px-5 py-2.5 text-right tabular-nums text-slate-500">{row.balanceAfter}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {history.hasNextPage && (
            <div className="mt-4 text-center">
              <Button
                variant="secondary"
                busy={history.isFetchingNextPage}
                onClick={() => history.fetchNextPage()}
              >
                Load more
              </Button>
            </div>
          )}
        </>
      )}
    </Card>
  );
}
