// The balance, and how it adds up: what was given, bought, spent and refunded equals the headline
// (the ledger's invariant, shown as the sum it is).
import { Link } from 'react-router';
import { formatCredits, formatNumber } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Card, ErrorState } from '../../ui/layout.tsx';
import { Skeleton } from '../../ui/skeleton.tsx';

export function BalanceCard() {
  const balance = trpc.credits.balance.useQuery();
  if (balance.error) return <ErrorState error={balance.error} retry={() => balance.refetch()} />;
  const data = balance.data;
  const terms = data
    ? ([
        ['Given', data.totalGranted, 'Sign-up bonus, plan credits and adjustments, less expired credits'],
        ['Bought', data.totalPurchased, 'Credit packages you paid for'],
        ['Spent', -data.totalUsed, 'Charged for generations'],
        ['Refunded', data.totalRefunded, 'Returned for failed or canceled generations'],
      ] as const)
    : null;
  return (
    <Card
      title="Credits"
      actions={
        <Link to="/pricing" className="text-sm font-semibold text-indigo-700 hover:underline">
          Buy credits
        </Link>
      }
    >
      {data && terms ? (
        <>
          <p
            className="text-4xl font-bold tracking-tight text-slate-900"
            data-testid="balance"
            aria-live="polite"
          >
            {formatCredits(data.balance)}
          </p>
          <ul
            className="mt-4 flex flex-wrap items-stretch gap-2 text-sm"
            aria-label="How the balance adds up"
            data-testid="balance-breakdown"
          >
            {terms.map(([label, value, hint], index) => (
              <li key={label} className="flex items-center gap-2">
                {index > 0 && (
                  <span aria-hidden="true" className="font-semibold text-slate-600">
                    {value < 0 ? '−' : '+'}
                  </span>
                )}
                <span className="block rounded-lg bg-slate-50 px-3 py-2" title={hint}>
                  <span className="block text-xs text-slate-600">
                    {label}
                    <span className="sr-only">:</span>
                  </span>
                  <span className="block font-semibold tabular-nums text-slate-800">
                    {formatNumber(index > 0 ? Math.abs(value) : value)}
                  </span>
                </span>
              </li>
            ))}
            <li className="flex items-center gap-2">
              <span aria-hidden="true" className="font-semibold text-slate-600">
                =
              </span>
              <span className="block rounded-lg bg-indigo-50 px-3 py-2 ring-1 ring-indigo-100">
                <span className="block text-xs text-indigo-700">
                  Balance<span className="sr-only">:</span>
                </span>
                <span className="block font-semibold tabular-nums text-indigo-900">
                  {formatNumber(data.balance)}
                </span>
              </span>
            </li>
          </ul>
        </>
      ) : (
        <div role="status" aria-label="Loading the balance">
          <Skeleton className="h-10 w-48" />
          <Skeleton className="mt-4 h-14 w-full max-w-xl" />
        </div>
      )}
    </Card>
  );
}

/** The balance as a compact pill for the header; it leads to billing. */
export function BalancePill() {
  const balance = trpc.credits.balance.useQuery();
  return (
    <Link
      to="/billing"
      className="whitespace-nowrap rounded-full bg-indigo-50 px-3 py-1 text-sm font-semibold text-indigo-700 ring-1 ring-inset ring-indigo-200 hover:bg-indigo-100"
    >
      {balance.data ? formatCredits(balance.data.balance) : '…'}
    </Link>
  );
}
