import { formatCredits } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Card, ErrorState } from '../../ui/layout.tsx';

export function BalanceCard() {
  const balance = trpc.credits.balance.useQuery();
  if (balance.error) return <ErrorState error={balance.error} retry={() => balance.refetch()} />;
  const data = balance.data;
  return (
    <Card title="Credits">
      <p
        className="text-4xl font-bold tracking-tight text-slate-900"
        data-testid="balance"
        aria-live="polite"
      >
        {data ? formatCredits(data.balance) : <span className="text-slate-300">…</span>}
      </p>
      {data && (
        <dl className="mt-4 grid grid-cols-2 gap-3 text-sm sm:grid-cols-4">
          {(
            [
              ['Granted', data.totalGranted],
              ['Purchased', data.totalPurchased],
              ['Used', data.totalUsed],
              ['Refunded', data.totalRefunded],
            ] as const
          ).map(([label, value]) => (
            <div key={label} className="rounded-lg bg-slate-50 px-3 py-2">
              <dt className="text-xs text-slate-500">{label}</dt>
              <dd className="font-semibold text-slate-800">{value}</dd>
            </div>
          ))}
        </dl>
      )}
    </Card>
  );
}

/** The balance as a compact pill, for the header. */
export function BalancePill() {
  const balance = trpc.credits.balance.useQuery();
  return (
    <span className="rounded-full bg-indigo-50 px-3 py-1 text-sm font-semibold text-indigo-700 ring-1 ring-inset ring-indigo-200">
      {balance.data ? formatCredits(balance.data.balance) : '…'}
    </span>
  );
}
