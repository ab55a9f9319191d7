// The balance, and how it adds up: what was given, bought, spent and refunded equals the balance
// (the ledger's invariant, shown as the sum it is), less what generations in progress hold — the
// headline is the available part, what a new generation can use.
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
        ['Spent', -data.totalUsed, 'Charged for generations that succeeded'],
        ['Refunded', data.totalRefunded, 'Returned for failed or canceled generations charged before holds'],
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
            {formatCredits(data.available)}
          </p>
          <p className="mt-1 text-sm text-slate-600" data-testid="balance-held">
            {data.held > 0 ? (
              <>
                available ·{' '}
                <span className="font-semibold tabular-nums text-amber-800">{formatNumber(data.held)}</span>{' '}
                held by generations in progress (spent if they succeed, given back if not) ·{' '}
                {formatNumber(data.balance)} in total
              </>
            ) : (
              'available · nothing held'
            )}
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
            {data.held > 0 && (
              <>
                <li className="flex items-center gap-2">
                  <span aria-hidden="true" className="font-semibold text-slate-600">
                    −
                  </span>
                  <span
                    className="block rounded-lg bg-amber-50 px-3 py-2"
                    title="Reserved for generations in progress: spent if they succeed, given back if not"
                  >
                    <span className="block text-xs text-amber-800">
                      Held<span className="sr-only">:</span>
                    </span>
                    <span className="block font-semibold tabular-nums text-amber-900">
                      {formatNumber(data.held)}
                    </span>
                  </span>
                </li>
                <li className="flex items-center gap-2">
                  <span aria-hidden="true" className="font-semibold text-slate-600">
                    =
                  </span>
                  <span className="block rounded-lg bg-emerald-50 px-3 py-2 ring-1 ring-emerald-100">
                    <span className="block text-xs text-emerald-800">
                      Available<span className="sr-only">:</span>
                    </span>
                    <span className="block font-semibold tabular-nums text-emerald-900">
                      {formatNumber(data.available)}
                    </span>
                  </span>
                </li>
              </>
            )}
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

/** The available balance as a compact pill for the header; it leads to billing. */
export function BalancePill() {
  const balance = trpc.credits.balance.useQuery();
  return (
    <Link
      to="/billing"
      className="whitespace-nowrap rounded-full bg-indigo-50 px-3 py-1 text-sm font-semibold text-indigo-700 ring-1 ring-inset ring-indigo-200 hover:bg-indigo-100"
    >
      {balance.data ? formatCredits(balance.data.available) : '…'}
    </Link>
  );
}
