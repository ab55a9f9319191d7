// For admins: a user's payments (or everyone's) with what refunds and disputes did to the credits —
// clawed back, reinstated, and uncollected (spent before the money went back: never recovered).
// On a phone, When, Status and the credits (clawed back, uncollected) fold under What; Amount stays.
import { formatDateTime, formatMoney, formatNumber, humanize } from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { type Column, DataTable, whenColumn } from '../../ui/data-table.tsx';
import { Empty } from '../../ui/layout.tsx';
import { LoadMore } from '../../ui/load-more.tsx';
import { QueryState } from '../../ui/query-state.tsx';
import { ScrollX } from '../../ui/scroll-x.tsx';
import { SkeletonRows } from '../../ui/skeleton.tsx';

type Row = RouterOutputs['admin']['payments']['list']['items'][number];

const USER: Column<Row> = {
  key: 'user',
  header: 'User',
  className: 'text-slate-600',
  cell: (row) => row.user?.email ?? '(deleted)',
};

const COLUMNS: Column<Row>[] = [
  {
    key: 'what',
    header: 'What',
    className: 'min-w-48 text-slate-800',
    cell: (row) => (
      <>
        {row.description}
        <span className="block text-xs break-all text-slate-600">
          {row.provider} {row.externalPaymentId}
        </span>
      </>
    ),
  },
  whenColumn(),
  {
    key: 'status',
    header: 'Status',
    wide: true,
    className: 'whitespace-nowrap text-slate-700',
    cell: (row) => humanize(row.status),
  },
  {
    key: 'amount',
    header: 'Amount',
    align: 'right',
    className: 'whitespace-nowrap tabular-nums',
    cell: (row) => (
      <>
        {formatMoney(row.amountCents, row.currency)}
        {row.refundedCents > 0 && (
          <span className="block text-xs text-slate-600">
            −{formatMoney(row.refundedCents, row.currency)}
          </span>
        )}
      </>
    ),
  },
  {
    key: 'clawed-back',
    header: 'Clawed back',
    align: 'right',
    wide: true,
    className: 'tabular-nums',
    cell: (row) => (
      <>
        {formatNumber(row.creditsClawedBack)}
        {row.creditsReinstated > 0 && (
          <span className="block text-xs whitespace-nowrap text-emerald-700">
            +{formatNumber(row.creditsReinstated)} reinstated
          </span>
        )}
      </>
    ),
  },
  {
    key: 'uncollected',
    header: 'Uncollected',
    align: 'right',
    wide: true,
    cell: (row) => (
      <span
        className={`tabular-nums ${row.creditsUncollected > 0 ? 'font-semibold text-red-700' : 'text-slate-600'}`}
      >
        {formatNumber(row.creditsUncollected)}
      </span>
    ),
  },
];

export function AdminPayments({ userId, uncollected }: { userId?: string; uncollected?: boolean }) {
  const payments = trpc.admin.payments.list.useInfiniteQuery(
    { limit: 20, ...(userId ? { userId } : {}), ...(uncollected ? { uncollected } : {}) },
    { getNextPageParam: (page) => page.nextCursor },
  );
  // Everyone's payments name whose each one is, after What.
  const columns = userId ? COLUMNS : [COLUMNS[0] as Column<Row>, USER, ...COLUMNS.slice(1)];
  return (
    <QueryState
      query={payments}
      skeleton={<SkeletonRows label="Loading payments" />}
      isEmpty={(data) => data.pages[0]?.items.length === 0}
      empty={<Empty title="No payments" />}
    >
      {(data) => (
        <>
          <ScrollX label="Payments" className="-mx-5">
            <DataTable
              rows={data.pages.flatMap((page) => page.items)}
              columns={columns}
              rowKey={(row) => row.id}
              secondary={(row) =>
                [
                  formatDateTime(row.createdAt),
                  humanize(row.status),
                  row.creditsClawedBack > 0 && `${formatNumber(row.creditsClawedBack)} clawed back`,
                  row.creditsUncollected > 0 && `${formatNumber(row.creditsUncollected)} uncollected`,
                ]
                  .filter(Boolean)
                  .join(' · ')
              }
              label="Payments"
              testId="admin-payments"
              flush={false}
            />
          </ScrollX>
          <LoadMore query={payments} />
        </>
      )}
    </QueryState>
  );
}
