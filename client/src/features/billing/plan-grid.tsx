// The plans, with a monthly/yearly switch. What each CTA does comes from the plan (ctaType).
import { useState } from 'react';
import { formatCredits, formatMoney } from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { ErrorState } from '../../ui/layout.tsx';
import { SkeletonTiles } from '../../ui/skeleton.tsx';
import { useMe } from '../identity/use-session.ts';
import { useCheckout } from './use-checkout.ts';

type Plan = RouterOutputs['billing']['plans'][number];
type Interval = 'month' | 'year';

function PlanCard({ plan, interval, current }: { plan: Plan; interval: Interval; current: boolean }) {
  const checkout = useCheckout();
  const price = interval === 'year' ? plan.priceYearlyCents : plan.priceMonthlyCents;
  const savings = plan.priceMonthlyCents * 12 - plan.priceYearlyCents;
  const label = plan.ctaLabel ?? 'Choose';
  let cta = (
    <Button variant="secondary" className="w-full" disabled>
      {current ? 'Current plan' : label}
    </Button>
  );
  if (!current && plan.ctaType === 'checkout' && plan.purchasable[interval]) {
    cta = (
      <Button
        variant={plan.highlight ? 'primary' : 'secondary'}
        className="w-full"
        busy={checkout.isPending}
        onClick={() => checkout.mutate({ kind: 'plan', planKey: plan.key, interval })}
      >
        {label}
      </Button>
    );
  } else if (plan.ctaType === 'contact' || plan.ctaType === 'link') {
    cta = (
      <a
        href={plan.ctaUrl ?? 'mailto:sales@forgeline.local'}
        className="inline-flex w-full items-center justify-center rounded-lg bg-white px-3.5 py-2 text-sm font-semibold text-slate-800 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50"
      >
        {label}
      </a>
    );
  }
  return (
    <article
      data-testid={`plan-${plan.key}`}
      className={`relative flex flex-col rounded-2xl bg-white p-6 shadow-sm ring-1 ${plan.highlight ? 'ring-2 ring-indigo-600' : 'ring-slate-200'}`}
    >
      {plan.badge && (
        <span className="absolute -top-3 left-6 rounded-full bg-indigo-600 px-3 py-0.5 text-xs font-semibold text-white">
          {plan.badge}
        </span>
      )}
      <h3 className="text-lg font-semibold text-slate-900">{plan.name}</h3>
      {plan.description && <p className="mt-1 text-sm text-slate-600">{plan.description}</p>}
      <p className="mt-4 flex items-baseline gap-1">
        <span className="text-3xl font-bold tracking-tight text-slate-900">
          {price > 0 ? formatMoney(price, plan.currency) : plan.ctaType === 'contact' ? 'Custom' : 'Free'}
        </span>
        {price > 0 && (
          <span className="text-sm text-slate-600">/{interval === 'year' ? 'year' : 'month'}</span>
        )}
      </p>
      {interval === 'year' && price > 0 && savings > 0 && (
        <p className="mt-1 text-xs font-semibold text-emerald-700">
          Save {formatMoney(savings, plan.currency)} a year
        </p>
      )}
      {plan.creditsPerPeriod > 0 && (
        <p className="mt-2 text-sm font-medium text-indigo-700">
          {formatCredits(plan.creditsPerPeriod)} every{' '}
          {interval === 'year' ? 'month, billed yearly' : 'month'}
        </p>
      )}
      <ul className="mt-4 flex-1 space-y-2 text-sm text-slate-700">
        {plan.features.map((feature) => (
          <li key={feature} className="flex gap-2">
            <span aria-hidden="true" className="text-indigo-600">
              ✓
            </span>
            {feature}
          </li>
        ))}
      </ul>
      <div className="mt-6">{cta}</div>
      {checkout.error && (
        <p role="alert" className="mt-2 text-sm text-red-700">
          {checkout.error.message}
        </p>
      )}
    </article>
  );
}

export function PlanGrid() {
  const [interval, setInterval] = useState<Interval>('month');
  const plans = trpc.billing.plans.useQuery();
  const me = useMe();
  // A visitor has no subscription to ask about: the free plan reads as theirs-to-be.
  const overview = trpc.billing.subscription.useQuery(undefined, { enabled: Boolean(me.data) });
  const currentKey =
    overview.data?.subscription?.status === 'canceled'
      ? null
      : (overview.data?.subscription?.plan?.key ?? null);
  if (plans.isPending) return <SkeletonTiles tiles={4} label="Loading plans" />;
  if (plans.error) return <ErrorState error={plans.error} retry={() => plans.refetch()} />;
  return (
    <div>
      <fieldset className="mx-auto mb-8 flex w-fit rounded-full bg-slate-100 p-1">
        <legend className="sr-only">Billing interval</legend>
        {(['month', 'year'] as const).map((value) => (
          <button
            key={value}
            type="button"
            aria-pressed={interval === value}
            onClick={() => setInterval(value)}
            className={`rounded-full px-4 py-1.5 text-sm font-semibold ${interval === value ? 'bg-white text-slate-900 shadow' : 'text-slate-600'}`}
          >
            {value === 'month' ? 'Monthly' : 'Yearly'}
          </button>
        ))}
      </fieldset>
      <div className="grid gap-6 sm:grid-cols-2 lg:grid-cols-4">
        {plans.data.map((plan) => (
          <PlanCard
            key={plan.id}
            plan={plan}
            interval={interval}
            current={me.data ? (currentKey ? plan.key === currentKey : plan.key === 'free') : false}
          />
        ))}
      </div>
    </div>
  );
}
