// Auto top-up on the Billing page: "when my balance falls below N credits, buy package P" with the
// saved card, and what the last top-ups did (a decline shows here, with the reason).
import { useEffect } from 'react';
import { useForm } from 'react-hook-form';
import type { z } from 'zod';
import { autoTopUpInput } from '../../../../shared/schemas/billing.ts';
import { formatCredits, formatDateTime, formatMoney, humanize } from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { zodResolver } from '../../lib/zod-form.ts';
import { Button } from '../../ui/button.tsx';
import { Field, FormError, FormField, inputClass } from '../../ui/field.tsx';
import { applyServerErrors } from '../../ui/form.ts';
import { Card, ErrorState } from '../../ui/layout.tsx';
import { SkeletonLines } from '../../ui/skeleton.tsx';

type Values = z.input<typeof autoTopUpInput>;
type State = RouterOutputs['billing']['autoTopUp']['get'];
type Package = RouterOutputs['billing']['packages'][number];

const STATUS_STYLE: Record<string, string> = {
  succeeded: 'bg-emerald-50 text-emerald-700',
  failed: 'bg-red-50 text-red-700',
  pending: 'bg-slate-100 text-slate-600',
  processing: 'bg-slate-100 text-slate-600',
};

function AutoTopUpForm({ state, packages }: { state: State; packages: Package[] }) {
  const utils = trpc.useUtils();
  const form = useForm<Values>({
    resolver: zodResolver(autoTopUpInput),
    defaultValues: {
      enabled: state.setting?.enabled ?? true,
      threshold: state.setting?.threshold ?? 50,
      packageId: state.setting?.package.id ?? packages[0]?.id ?? '',
    },
  });
  const save = trpc.billing.autoTopUp.set.useMutation({
    onSuccess: (data) => {
      utils.billing.autoTopUp.get.setData(undefined, data);
      form.reset({
        enabled: data.setting?.enabled ?? false,
        threshold: data.setting?.threshold ?? 50,
        packageId: data.setting?.package.id ?? '',
      });
    },
    onError: (error) => applyServerErrors(error, form.setError, ['enabled', 'threshold', 'packageId']),
  });
  const { errors } = form.formState;
  const enabled = form.watch('enabled');
  return (
    <form
      noValidate
      className="space-y-4"
      aria-label="Auto top-up"
      onSubmit={form.handleSubmit((values) => save.mutate(values))}
    >
      <label className="flex items-center gap-2 text-sm font-medium text-slate-800">
        <input type="checkbox" className="size-4 rounded border-slate-300" {...form.register('enabled')} />
        Buy credits automatically when my balance runs low
      </label>
      <div className="grid gap-4 sm:grid-cols-2">
        <FormField
          form={form}
          name="threshold"
          label="When my balance falls below (credits)"
          type="number"
          min={1}
          step={1}
          disabled={!enabled}
        />
        <Field label="Buy" error={errors.packageId?.message}>
          {(control) => (
            <select {...control} className={inputClass} disabled={!enabled} {...form.register('packageId')}>
              {packages.map((pkg) => (
                <option key={pkg.id} value={pkg.id}>
                  {pkg.name} — {formatCredits(pkg.credits)} for {formatMoney(pkg.priceCents, pkg.currency)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <FormError message={errors.root?.server?.message} />
      {save.isSuccess && !form.formState.isDirty && (
        <p role="status" className="text-sm text-emerald-700">
          Saved.
          {save.data.setting?.enabled
            ? ' If your balance is already below the threshold, the top-up is bought in a moment.'
            : ' Auto top-up is off.'}
        </p>
      )}
      <Button type="submit" busy={save.isPending}>
        Save auto top-up
      </Button>
    </form>
  );
}

/** Whether a top-up may be on its way (one in flight, or armed with the balance already below). */
function expectingTopUp(state: State | undefined, balance: number | undefined) {
  if (!state?.setting?.enabled) return false;
  if (state.attempts.some((attempt) => attempt.status === 'pending' || attempt.status === 'processing'))
    return true;
  return state.setting.armed && balance !== undefined && balance < state.setting.threshold;
}

export function AutoTopUpCard() {
  const utils = trpc.useUtils();
  const balance = trpc.credits.balance.useQuery();
  // While a top-up may be on its way (the worker's sweep buys within seconds), look again.
  const state = trpc.billing.autoTopUp.get.useQuery(undefined, {
    refetchInterval: (query) => (expectingTopUp(query.state.data, balance.data?.available) ? 2000 : false),
  });
  const packages = trpc.billing.packages.useQuery();
  const latest = state.data?.attempts[0];
  const landed = latest?.status === 'succeeded' ? latest.id : null;
  useEffect(() => {
    // A top-up landed: the balance and the payments changed too.
    if (!landed) return;
    void utils.credits.balance.invalidate();
    void utils.billing.payments.invalidate();
  }, [landed, utils]);
  if (state.isPending || packages.isPending) {
    return (
      <Card title="Auto top-up">
        <SkeletonLines lines={4} label="Loading auto top-up" />
      </Card>
    );
  }
  if (state.error || packages.error) {
    return (
      <ErrorState
        error={state.error ?? packages.error}
        retry={() => {
          void state.refetch();
          void packages.refetch();
        }}
      />
    );
  }
  const { setting, available, unavailableReason, attempts } = state.data;
  return (
    <Card title="Auto top-up">
      <div className="space-y-4" data-testid="auto-top-up">
        {setting?.enabled && setting.paymentMethodLabel && (
          <p className="text-sm text-slate-600">
            Charges <span className="font-medium text-slate-800">{setting.paymentMethodLabel}</span> when your
            balance falls below {formatCredits(setting.threshold)}.
            {!setting.armed &&
              ` It buys again once your balance is back above ${formatCredits(setting.threshold)}, or when you save this setting.`}
          </p>
        )}
        {!available && unavailableReason && (
          <p className="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-amber-200">
            {unavailableReason}
          </p>
        )}
        {packages.data.length === 0 ? (
          <p className="text-sm text-slate-600">No credit packages are on sale.</p>
        ) : (
          <AutoTopUpForm state={state.data} packages={packages.data} />
        )}
        {attempts.length > 0 && (
          <div>
            <h3 className="text-sm font-semibold text-slate-800">Recent top-ups</h3>
            <ul className="mt-2 divide-y divide-slate-100 text-sm" data-testid="auto-top-ups">
              {attempts.map((attempt) => (
                <li key={attempt.id} className="flex flex-wrap items-baseline justify-between gap-2 py-2">
                  <span className="text-slate-700">
                    {attempt.description ?? 'Top-up'}
                    {attempt.amountCents !== null && attempt.currency
                      ? ` · ${formatMoney(attempt.amountCents, attempt.currency)}`
                      : ''}
                    <span className="ml-2 text-xs text-slate-600">{formatDateTime(attempt.createdAt)}</span>
                  </span>
                  <span
                    className={`rounded-full px-2 py-0.5 text-xs font-semibold ${STATUS_STYLE[attempt.status] ?? ''}`}
                  >
                    {humanize(attempt.status)}
                  </span>
                  {attempt.error && (
                    <p role="alert" className="w-full text-sm text-red-700">
                      {attempt.error}
                    </p>
                  )}
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </Card>
  );
}
