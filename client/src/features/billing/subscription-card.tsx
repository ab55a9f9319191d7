// The caller's subscription (cancel at period end / resume) and their expiring credits.
import { Link } from 'react-router';
import { formatCredits, formatDate, formatMoney, humanize } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm-button.tsx';
import { Card, Empty, ErrorState, Loading } from '../../ui/layout.tsx';

export function SubscriptionCard() {
  const utils = trpc.useUtils();
  const overview = trpc.billing.subscription.useQuery();
  const refresh = () => utils.billing.subscription.invalidate();
  const cancel = trpc.billing.cancelSubscription.useMutation({ onSuccess: refresh });
  const resume = trpc.billing.resumeSubscription.useMutation({ onSuccess: refresh });
  if (overview.isPending)
    return (
      <Card title="Subscription">
        <Loading />
      </Card>
    );
  if (overview.error) return <ErrorState error={overview.error} retry={() => overview.refetch()} />;
  const { subscription, grants } = overview.data;
  const live = subscription && ['active', 'trialing', 'past_due'].includes(subscription.status);
  return (
    <>
      <Card title="Subscription">
        {!subscription || !live ? (
          <Empty title="No active subscription">
            <Link to="/pricing" className="font-semibold text-indigo-700 hover:underline">
              See plans
            </Link>
          </Empty>
        ) : (
          <div className="flex flex-wrap items-start justify-between gap-4" data-testid="subscription">
            <div>
              <p className="text-xl font-bold text-slate-900">
                {subscription.plan?.name ?? 'Subscription'}{' '}
                <span
                  className={`ml-1 rounded-full px-2 py-0.5 align-middle text-xs font-semibold ${subscription.status === 'past_due' ? 'bg-red-50 text-red-700' : 'bg-emerald-50 text-emerald-700'}`}
                >
                  {humanize(subscription.status)}
                </span>
              </p>
              <p className="mt-1 text-sm text-slate-600">
                {subscription.amount && subscription.currency
                  ? `${formatMoney(Math.round(Number(subscription.amount) * 100), subscription.currency)} per ${subscription.interval ?? 'month'}`
                  : null}
                {subscription.plan
                  ? ` · ${formatCredits(subscription.plan.creditsPerPeriod)} per period`
                  : null}
              </p>
              {subscription.currentPeriodEnd && (
                <p className="mt-1 text-sm text-slate-600" data-testid="renewal">
                  {subscription.cancelAtPeriodEnd ? 'Ends on ' : 'Renews on '}
                  {formatDate(subscription.currentPeriodEnd)}
                </p>
              )}
              {subscription.scheduledChange && !subscription.cancelAtPeriodEnd && (
                <p className="mt-1 text-sm text-amber-800" data-testid="scheduled-change">
                  Switches to {subscription.scheduledChange.plan.name} on{' '}
                  {formatDate(subscription.scheduledChange.at)}
                </p>
              )}
              <Link
                to="/pricing"
                className="mt-2 inline-block text-sm font-semibold text-indigo-700 hover:underline"
              >
                Change plan
              </Link>
            </div>
            {subscription.cancelAtPeriodEnd ? (
              <Button variant="secondary" busy={resume.isPending} onClick={() => resume.mutate()}>
                Resume subscription
              </Button>
            ) : (
              <ConfirmButton
                label="Cancel subscription"
                variant="secondary"
                title="Cancel your subscription?"
                description="It stays active until the end of the period you paid for; you can resume before then."
                confirmLabel="Cancel at period end"
                busy={cancel.isPending}
                onConfirm={() => cancel.mutate()}
              />
            )}
          </div>
        )}
        {(cancel.error ?? resume.error) && (
          <p role="alert" className="mt-3 text-sm text-red-700">
            {(cancel.error ?? resume.error)?.message}
          </p>
        )}
      </Card>
      <Card title="Expiring credits">
        {grants.length === 0 ? (
          <p className="text-sm text-slate-600">
            None. Subscription credits appear here with the date they expire; they are spent first.
          </p>
        ) : (
          <ul className="divide-y divide-slate-100" data-testid="grants">
            {grants.map((grant) => (
              <li key={grant.id} className="flex justify-between py-2 text-sm">
                <span className="font-medium text-slate-800">
                  {formatCredits(grant.remaining)} <span className="text-slate-600">of {grant.amount}</span>
                </span>
                <span className="text-slate-600">expire {formatDate(grant.expiresAt)}</span>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
