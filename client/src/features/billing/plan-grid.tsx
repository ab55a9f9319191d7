// The plans, with a monthly/yearly switch. What each CTA does comes from the plan (ctaType). A user
// on a plan sees it marked as current and changes plan (upgrade now, downgrade at period end)
// instead of buying a second subscription.
import { useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { formatCredits, formatDate, formatMoney } from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { ErrorState } from '../../ui/layout.tsx';
import { LinkButton } from '../../ui/link-button.tsx';
import { SkeletonTiles } from '../../ui/skeleton.tsx';
import { signInPath, useMe } from '../identity/use-session.ts';
import { useCheckout } from './use-checkout.ts';

type Plan = RouterOutputs['billing']['plans'][number];
type Subscription = NonNullable<RouterOutputs['billing']['subscription']['subscription']>;
type Interval = 'month' | 'year';

const LIVE = ['trialing', 'active', 'past_due'];

/** What choosing `plan` would do for a subscriber (mirrors the server's rule). */
function changeKind(plan: Plan, interval: Interval, current: Subscription) {
  const sameInterval = (current.interval ?? 'month') === interval;
  if (current.plan?.key === plan.key && sameInterval) return 'current' as const;
  return sameInterval && plan.creditsPerPeriod > (current.plan?.creditsPerPeriod ?? 0)
    ? ('upgrade' as const)
    : ('later' as const);
}

function ChangePlanButton({
  plan,
  interval,
  current,
}: {
  plan: Plan;
  interval: Interval;
  current: Subscription;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const navigate = useNavigate();
  const utils = trpc.useUtils();
  const change = trpc.billing.checkout.useMutation({
    onSuccess: async ({ url }) => {
      await Promise.all([utils.billing.invalidate(), utils.credits.invalidate()]);
      if (url.startsWith('/')) await navigate(url);
      else window.location.assign(url);
    },
  });
  const kind = changeKind(plan, interval, current);
  const price = interval === 'year' ? plan.priceYearlyCents : plan.priceMonthlyCents;
  const end = current.currentPeriodEnd ? formatDate(current.currentPeriodEnd) : 'the end of your period';
  const titleId = `change-${plan.key}-title`;
  return (
    <>
      <Button
        variant={plan.highlight ? 'primary' : 'secondary'}
        className="w-full"
        busy={change.isPending}
        onClick={() => dialog.current?.showModal()}
        aria-label={`Change to ${plan.name}`}
      >
        Change
      </Button>
      <dialog
        ref={dialog}
        aria-labelledby={titleId}
        className="m-auto w-full max-w-sm rounded-2xl p-0 shadow-xl backdrop:bg-slate-900/40"
      >
        <form method="dialog" className="space-y-4 p-6">
          <h2 id={titleId} className="text-lg font-semibold text-slate-900">
            Change to {plan.name}?
          </h2>
          <p className="text-sm text-slate-600">
            {kind === 'upgrade'
              ? `Your ${current.plan?.name ?? 'plan'} subscription becomes ${plan.name} now. You pay the prorated difference for the rest of this period and get the extra credits for it at once; from your next renewal it is ${formatMoney(price, plan.currency)} a ${interval}.`
              : `You keep ${current.plan?.name ?? 'your plan'} and its credits until ${end}; then your subscription switches to ${plan.name} at ${formatMoney(price, plan.currency)} a ${interval}.`}
          </p>
          <div className="flex justify-end gap-2">
            <Button type="submit" variant="secondary" value="cancel">
              Keep my plan
            </Button>
            <Button
              onClick={() => {
                dialog.current?.close();
                change.mutate({ kind: 'plan', planKey: plan.key, interval });
              }}
            >
              {kind === 'upgrade' ? `Upgrade to ${plan.name}` : `Switch at ${end}`}
            </Button>
          </div>
        </form>
      </dialog>
      {change.error && (
        <p role="alert" className="mt-2 text-sm text-red-700">
          {change.error.message}
        </p>
      )}
    </>
  );
}

function PlanCard({
  plan,
  interval,
  subscription,
  isFreeDefault,
  visitor,
}: {
  plan: Plan;
  interval: Interval;
  subscription: Subscription | null;
  isFreeDefault: boolean;
  /** Not signed in (the public pricing page): nothing is current, the free plan starts a sign-up. */
  visitor: boolean;
}) {
  const checkout = useCheckout();
  const utils = trpc.useUtils();
  const keep = trpc.billing.checkout.useMutation({ onSuccess: () => utils.billing.invalidate() });
  const price = interval === 'year' ? plan.priceYearlyCents : plan.priceMonthlyCents;
  const savings = plan.priceMonthlyCents * 12 - plan.priceYearlyCents;
  const label = plan.ctaLabel ?? 'Choose';
  const isCurrent =
    !visitor &&
    ((subscription !== null && subscription.plan?.key === plan.key) ||
      (subscription === null && isFreeDefault));
  const isCurrentInterval = isCurrent && (subscription?.interval ?? 'month') === interval;
  const scheduled = subscription?.scheduledChange ?? null;
  const buyable = plan.ctaType === 'checkout' && plan.purchasable[interval];

  let cta = (
    <Button variant="secondary" className="w-full" disabled>
      {isCurrent ? 'Current plan' : label}
    </Button>
  );
  if (visitor && isFreeDefault) {
    cta = (
      <LinkButton to={signInPath('/pricing', 'sign-up')} variant="secondary" className="w-full">
        Start free
      </LinkButton>
    );
  } else if (subscription && isFreeDefault && !isCurrent) {
    // Going back to Free is ending the subscription (at its period end), from the Billing page.
    cta = (
      <Link
        to="/billing"
        className="inline-flex w-full items-center justify-center rounded-lg bg-white px-3.5 py-2 text-sm font-semibold text-slate-800 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50"
      >
        Cancel to return to {plan.name}
      </Link>
    );
  } else if (subscription && isCurrentInterval && scheduled) {
    // A change is waiting: choosing the current plan again takes it back.
    cta = (
      <Button
        variant="secondary"
        className="w-full"
        busy={keep.isPending}
        onClick={() => keep.mutate({ kind: 'plan', planKey: plan.key, interval })}
      >
        Keep {plan.name}
      </Button>
    );
  } else if (subscription && !isCurrentInterval && buyable) {
    cta = <ChangePlanButton plan={plan} interval={interval} current={subscription} />;
  } else if (!subscription && !isCurrent && buyable) {
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
  } else if (!isCurrent && (plan.ctaType === 'contact' || plan.ctaType === 'link')) {
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
      aria-current={isCurrent ? 'true' : undefined}
      className={`relative flex flex-col rounded-2xl bg-white p-6 shadow-sm ring-1 ${isCurrent ? 'ring-2 ring-emerald-500' : plan.highlight ? 'ring-2 ring-indigo-600' : 'ring-slate-200'}`}
    >
      {isCurrent ? (
        <span className="absolute -top-3 left-6 rounded-full bg-emerald-700 px-3 py-0.5 text-xs font-semibold text-white">
          Your plan
          {subscription?.interval ? ` · ${subscription.interval === 'year' ? 'yearly' : 'monthly'}` : ''}
        </span>
      ) : (
        plan.badge && (
          <span className="absolute -top-3 left-6 rounded-full bg-indigo-600 px-3 py-0.5 text-xs font-semibold text-white">
            {plan.badge}
          </span>
        )
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
      {scheduled && scheduled.plan.key === plan.key && (
        <p
          className="mt-2 rounded-lg bg-amber-50 px-2 py-1 text-xs text-amber-800"
          data-testid="scheduled-change"
        >
          Your subscription switches to {plan.name} on {formatDate(scheduled.at)}
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
      {(checkout.error ?? keep.error) && (
        <p role="alert" className="mt-2 text-sm text-red-700">
          {(checkout.error ?? keep.error)?.message}
        </p>
      )}
    </article>
  );
}

export function PlanGrid() {
  const plans = trpc.billing.plans.useQuery();
  const me = useMe();
  // A visitor (public pricing page) has no subscription to ask about.
  const overview = trpc.billing.subscription.useQuery(undefined, { retry: false, enabled: Boolean(me.data) });
  const live =
    overview.data?.subscription && LIVE.includes(overview.data.subscription.status)
      ? overview.data.subscription
      : null;
  const [chosen, setChosen] = useState<Interval | null>(null);
  const interval = chosen ?? live?.interval ?? 'month';
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
            onClick={() => setChosen(value)}
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
            subscription={live}
            isFreeDefault={plan.key === 'free'}
            visitor={!me.data}
          />
        ))}
      </div>
    </div>
  );
}
