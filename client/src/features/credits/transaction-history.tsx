// The ledger, newest first, a page at a time, filterable by type.
import { useState } from 'react';
import { CREDIT_TRANSACTION_TYPES, type CreditTransactionType } from '../../../../shared/schemas/credits.ts';
import { formatDateTime, formatNumber, formatSigned, humanize } from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { type Column, DataTable } from '../../ui/data-table.tsx';
import { inputClass } from '../../ui/field.tsx';
import { Card, Empty } from '../../ui/layout.tsx';
import { LoadMore } from '../../ui/load-more.tsx';
import { QueryState } from '../../ui/query-state.tsx';
import { SkeletonRows } from '../../ui/skeleton.tsx';

type Row = RouterOutputs['credits']['transactions']['items'][number];

const COLUMNS: Column<Row>[] = [
  {
    key: 'what',
    header: 'What',
    cell: (row) => (
      <>
        <span className="font-medium text-slate-800">{humanize(row.type)}</span>
        {row.description && <span className="block text-slate-600 sm:ml-2 sm:inline">{row.description}</span>}
      </>
    ),
  },
  {
    key: 'when',
    header: 'When',
    wide: true,
    className: 'whitespace-nowrap text-slate-600',
    cell: (row) => formatDateTime(row.createdAt),
  },
  {
    key: 'amount',
    header: 'Amount',
    align: 'right',
    cell: (row) => (
      <span
        className={`font-semibold tabular-nums ${row.amount < 0 ? 'text-slate-700' : 'text-emerald-700'}`}
      >
        {formatSigned(row.amount)}
      </span>
    ),
  },
  {
    key: 'balance',
    header: 'Balance',
    align: 'right',
    wide: true,
    className: 'tabular-nums text-slate-600',
    cell: (row) => formatNumber(row.balanceAfter),
  },
];

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
            <DataTable
              rows={data.pages.flatMap((page) => page.items)}
              columns={COLUMNS}
              rowKey={(row) => String(row.id)}
              secondary={(row) =>
                `${formatDateTime(row.createdAt)} · balance ${formatNumber(row.balanceAfter)}`
              }
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
