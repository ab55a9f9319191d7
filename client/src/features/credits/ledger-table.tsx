// The ledger as a table — what, when, amount, balance after — as the user's transaction history
// and the admin's view of one user show it. On a phone the date and balance go under the first cell.
import { formatDateTime, formatNumber, formatSigned, humanize } from '../../lib/format.ts';
import type { RouterOutputs } from '../../lib/trpc.ts';
import { type Column, DataTable, whenColumn } from '../../ui/data-table.tsx';

type LedgerRow = RouterOutputs['credits']['transactions']['items'][number] & {
  /** Set on admin rows: who posted a manual adjustment. */
  performedBy?: { email: string } | null;
};

const COLUMNS: Column<LedgerRow>[] = [
  {
    key: 'what',
    header: 'What',
    cell: (row) => (
      <>
        <span className="font-medium text-slate-800">{humanize(row.type)}</span>
        {row.description && <span className="block text-slate-600 sm:ml-2 sm:inline">{row.description}</span>}
        {row.performedBy && <span className="block text-xs text-slate-600">by {row.performedBy.email}</span>}
      </>
    ),
  },
  whenColumn(),
  {
    key: 'amount',
    header: 'Amount',
    align: 'right',
    cell: (row) => (
      <span
        className={`font-semibold whitespace-nowrap tabular-nums ${row.amount < 0 ? 'text-slate-700' : 'text-emerald-700'}`}
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

export function LedgerTable({
  rows,
  label,
  testId,
}: {
  rows: readonly LedgerRow[];
  label: string;
  testId: string;
}) {
  return (
    <DataTable
      rows={rows}
      columns={COLUMNS}
      rowKey={(row) => String(row.id)}
      secondary={(row) => `${formatDateTime(row.createdAt)} · balance ${formatNumber(row.balanceAfter)}`}
      label={label}
      testId={testId}
    />
  );
}
