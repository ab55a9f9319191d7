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
              <Term
                key={label}
                operator={index === 0 ? undefined : value < 0 ? '−' : '+'}
                label={label}
                value={index > 0 ? Math.abs(value) : value}
                hint={hint}
                tone="plain"
              />
            ))}
            <Term operator="=" label="Balance" value={data.balance} tone="total" />
            {data.held > 0 && (
              <>
                <Term
                  operator="−"
                  label="Held"
                  value={data.held}
                  hint="Reserved for generations in progress: spent if they succeed, given back if not"
                  tone="held"
                />
                <Term operator="=" label="Available" value={data.available} tone="available" />
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

const TONES = {
  plain: { box: 'bg-slate-50', label: 'text-slate-600', value: 'text-slate-800' },
  total: { box: 'bg-indigo-50 ring-1 ring-indigo-100', label: 'text-indigo-700', value: 'text-indigo-900' },
  held: { box: 'bg-amber-50', label: 'text-amber-800', value: 'text-amber-900' },
  available: {
    box: 'bg-emerald-50 ring-1 ring-emerald-100',
    label: 'text-emerald-800',
    value: 'text-emerald-900',
  },
} as const;

/** One term of the balance's sum: an operator before it (none for the first), a label, a figure. */
function Term(props: {
  operator?: string;
  label: string;
  value: number;
  hint?: string;
  tone: keyof typeof TONES;
}) {
  const tone = TONES[props.tone];
  return (
    <li className="flex items-center gap-2">
      {props.operator && (
        <span aria-hidden="true" className="font-semibold text-slate-600">
          {props.operator}
        </span>
      )}
      <span className={`block rounded-lg px-3 py-2 ${tone.box}`} title={props.hint}>
        <span className={`block text-xs ${tone.label}`}>
          {props.label}
          <span className="sr-only">:</span>
        </span>
        <span className={`block font-semibold tabular-nums ${tone.value}`}>{formatNumber(props.value)}</span>
      </span>
    </li>
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
