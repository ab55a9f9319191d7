// The local dev checkout: shown when no payment provider is configured. "Pay" makes the server
// send itself the signed events a real Stripe checkout would, through the same webhook code.
import { Link, useNavigate, useSearchParams } from 'react-router';
import { formatCredits, formatMoney } from '../lib/format.ts';
import { trpc } from '../lib/trpc.ts';
import { Button } from '../ui/button.tsx';
import { Card, ErrorState, Loading, PageHeader } from '../ui/layout.tsx';

export function DevCheckoutPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const navigate = useNavigate();
  const utils = trpc.useUtils();
  const details = trpc.billing.devCheckout.get.useQuery(
    { token },
    { enabled: token.length >= 10, retry: false },
  );
  const complete = trpc.billing.devCheckout.complete.useMutation({
    onSuccess: async () => {
      await Promise.all([utils.credits.invalidate(), utils.billing.invalidate()]);
      await navigate('/billing?checkout=success');
    },
  });
  if (token.length < 10) return <ErrorState error={{ message: 'This checkout link is incomplete.' }} />;
  if (details.isPending) return <Loading />;
  if (details.error) return <ErrorState error={details.error} />;
  const item = details.data;
  const price = formatMoney(item.amountCents, item.currency);
  return (
    <div className="mx-auto max-w-md">
      <PageHeader title="Checkout" />
      <Card>
        <p className="rounded-lg bg-amber-50 px-3 py-2 text-xs text-amber-800 ring-1 ring-amber-200">
          Development checkout: no payment provider is configured, so no card is charged. Paying sends the
          same signed events a real checkout would.
        </p>
        <dl className="mt-4 space-y-2 text-sm">
          <div className="flex justify-between">
            <dt className="text-slate-600">Item</dt>
            <dd className="font-semibold text-slate-900">{item.name}</dd>
          </div>
          <div className="flex justify-between">
            <dt className="text-slate-600">Credits</dt>
            <dd className="text-slate-900">
              {formatCredits(item.credits)}
              {item.interval ? ' per month' : ''}
            </dd>
          </div>
          <div className="flex justify-between">
            <dt className="text-slate-600">Price</dt>
            <dd className="text-slate-900">
              {price}
              {item.interval ? ` / ${item.interval}` : ''}
            </dd>
          </div>
        </dl>
        <Button className="mt-6 w-full" busy={complete.isPending} onClick={() => complete.mutate({ token })}>
          Pay {price}
        </Button>
        {complete.error && (
          <p role="alert" className="mt-2 text-sm text-red-700">
            {complete.error.message}
          </p>
        )}
        <Link to="/pricing" className="mt-3 block text-center text-sm text-slate-600 hover:underline">
          Cancel
        </Link>
      </Card>
    </div>
  );
}
