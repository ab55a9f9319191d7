// Plans, credit packages, feature costs and the sign-up bonus.
import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import type { z } from 'zod';
import {
  packageUpsertInput,
  planUpsertInput,
  settingsUpdateInput,
} from '../../../../shared/schemas/admin.ts';
import { OPERATION_TYPES } from '../../../../shared/schemas/credits.ts';
import { useStaffRole } from '../../features/admin/use-role.ts';
import { formatMoney, humanize } from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm-button.tsx';
import { Field, FormError, Input } from '../../ui/field.tsx';
import { applyServerErrors } from '../../ui/form.ts';
import { Card, ErrorState, Loading, PageHeader } from '../../ui/layout.tsx';

type PlanRow = RouterOutputs['admin']['plans']['list'][number];
type PackageRow = RouterOutputs['admin']['packages']['list'][number];
type PlanValues = z.input<typeof planUpsertInput>;
type PackageValues = z.input<typeof packageUpsertInput>;
type SettingsValues = z.input<typeof settingsUpdateInput>;

function PlanForm({ plan, onDone }: { plan: PlanRow | null; onDone: () => void }) {
  const utils = trpc.useUtils();
  const form = useForm<PlanValues & { featuresText: string }>({
    defaultValues: plan
      ? {
          ...plan,
          description: plan.description ?? '',
          badge: plan.badge ?? '',
          ctaLabel: plan.ctaLabel ?? '',
          ctaUrl: plan.ctaUrl ?? undefined,
          stripePriceMonthlyId: plan.stripePriceMonthlyId ?? '',
          stripePriceYearlyId: plan.stripePriceYearlyId ?? '',
          polarProductMonthlyId: plan.polarProductMonthlyId ?? '',
          polarProductYearlyId: plan.polarProductYearlyId ?? '',
          featuresText: plan.features.join('\n'),
        }
      : {
          key: '',
          name: '',
          creditsPerPeriod: 0,
          priceMonthlyCents: 0,
          priceYearlyCents: 0,
          featuresText: '',
          ctaType: 'checkout',
        },
  });
  const upsert = trpc.admin.plans.upsert.useMutation({
    onSuccess: () => {
      void utils.admin.plans.list.invalidate();
      void utils.billing.plans.invalidate();
      onDone();
    },
    onError: (error) =>
      applyServerErrors(error, form.setError, [
        'key',
        'name',
        'creditsPerPeriod',
        'priceMonthlyCents',
        'priceYearlyCents',
        'stripePriceMonthlyId',
        'stripePriceYearlyId',
        'polarProductMonthlyId',
        'polarProductYearlyId',
      ]),
  });
  const { errors } = form.formState;
  return (
    <form
      noValidate
      className="grid gap-3 sm:grid-cols-2"
      onSubmit={form.handleSubmit(({ featuresText, ...values }) => {
        const parsed = planUpsertInput.safeParse({
          ...values,
          id: plan?.id,
          description: values.description || null,
          badge: values.badge || null,
          ctaLabel: values.ctaLabel || null,
          ctaUrl: values.ctaUrl || null,
          features: featuresText
            .split('\n')
            .map((f) => f.trim())
            .filter(Boolean),
        });
        if (!parsed.success) {
          for (const issue of parsed.error.issues)
            form.setError(issue.path.join('.') as 'name', { message: issue.message });
          return;
        }
        upsert.mutate(parsed.data);
      })}
    >
      <Field label="Key" error={errors.key?.message}>
        {(c) => <Input {...c} {...form.register('key')} />}
      </Field>
      <Field label="Name" error={errors.name?.message}>
        {(c) => <Input {...c} {...form.register('name')} />}
      </Field>
      <Field label="Credits per period" error={errors.creditsPerPeriod?.message}>
        {(c) => (
          <Input {...c} type="number" {...form.register('creditsPerPeriod', { valueAsNumber: true })} />
        )}
      </Field>
      <Field label="Badge">{(c) => <Input {...c} {...form.register('badge')} />}</Field>
      <Field label="Monthly price (cents)" error={errors.priceMonthlyCents?.message}>
        {(c) => (
          <Input {...c} type="number" {...form.register('priceMonthlyCents', { valueAsNumber: true })} />
        )}
      </Field>
      <Field label="Yearly price (cents)" error={errors.priceYearlyCents?.message}>
        {(c) => (
          <Input {...c} type="number" {...form.register('priceYearlyCents', { valueAsNumber: true })} />
        )}
      </Field>
      <Field label="Stripe price, monthly (price_…)" error={errors.stripePriceMonthlyId?.message}>
        {(c) => <Input {...c} {...form.register('stripePriceMonthlyId')} />}
      </Field>
      <Field label="Stripe price, yearly (price_…)" error={errors.stripePriceYearlyId?.message}>
        {(c) => <Input {...c} {...form.register('stripePriceYearlyId')} />}
      </Field>
      <Field label="Polar product, monthly" error={errors.polarProductMonthlyId?.message}>
        {(c) => <Input {...c} {...form.register('polarProductMonthlyId')} />}
      </Field>
      <Field label="Polar product, yearly" error={errors.polarProductYearlyId?.message}>
        {(c) => <Input {...c} {...form.register('polarProductYearlyId')} />}
      </Field>
      <Field label="Features (one per line)">
        {(c) => (
          <textarea
            {...c}
            rows={3}
            className="block w-full rounded-lg px-3 py-2 text-sm ring-1 ring-slate-300"
            {...form.register('featuresText')}
          />
        )}
      </Field>
      <Field label="Description">
        {(c) => (
          <textarea
            {...c}
            rows={3}
            className="block w-full rounded-lg px-3 py-2 text-sm ring-1 ring-slate-300"
            {...form.register('description')}
          />
        )}
      </Field>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" {...form.register('highlight')} /> Highlight
      </label>
      <FormError message={errors.root?.server?.message} />
      <div className="flex gap-2 sm:col-span-2">
        <Button type="submit" busy={upsert.isPending}>
          {plan ? 'Save plan' : 'Add plan'}
        </Button>
        <Button variant="ghost" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function Plans({ canWrite }: { canWrite: boolean }) {
  const utils = trpc.useUtils();
  const plans = trpc.admin.plans.list.useQuery();
  const archive = trpc.admin.plans.archive.useMutation({
    onSuccess: () => utils.admin.plans.list.invalidate(),
  });
  const [editing, setEditing] = useState<PlanRow | 'new' | null>(null);
  if (plans.isPending) return <Loading />;
  if (plans.error) return <ErrorState error={plans.error} />;
  return (
    <Card
      title="Plans"
      actions={
        canWrite && (
          <Button variant="secondary" onClick={() => setEditing('new')}>
            Add plan
          </Button>
        )
      }
    >
      {editing && (
        <div className="mb-6 rounded-xl bg-slate-50 p-4">
          <PlanForm plan={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />
        </div>
      )}
      <ul className="divide-y divide-slate-100">
        {plans.data.map((plan) => (
          <li key={plan.id} className="flex flex-wrap items-center justify-between gap-2 py-2.5 text-sm">
            <span>
              <strong>{plan.name}</strong>{' '}
              <span className="font-mono text-xs text-slate-500">{plan.key}</span>
              {!plan.active && (
                <span className="ml-2 rounded bg-slate-100 px-1.5 text-xs text-slate-500">archived</span>
              )}
              <span className="ml-2 text-slate-500">
                {formatMoney(plan.priceMonthlyCents, plan.currency)}/mo · {plan.creditsPerPeriod} credits
              </span>
            </span>
            {canWrite && (
              <span className="flex gap-1">
                <Button variant="ghost" onClick={() => setEditing(plan)}>
                  Edit
                </Button>
                {plan.active && (
                  <ConfirmButton
                    label="Archive"
                    title={`Archive ${plan.name}?`}
                    description="It leaves the pricing page; current subscribers keep it."
                    confirmLabel="Archive"
                    onConfirm={() => archive.mutate({ id: plan.id })}
                  />
                )}
              </span>
            )}
          </li>
        ))}
      </ul>
    </Card>
  );
}

function Packages({ canWrite }: { canWrite: boolean }) {
  const utils = trpc.useUtils();
  const packages = trpc.admin.packages.list.useQuery();
  const refresh = () => {
    void utils.admin.packages.list.invalidate();
    void utils.billing.packages.invalidate();
  };
  const archive = trpc.admin.packages.archive.useMutation({ onSuccess: refresh });
  const form = useForm<PackageValues>({
    resolver: zodResolver(packageUpsertInput),
    defaultValues: { name: '', credits: 100, priceCents: 500 },
  });
  const upsert = trpc.admin.packages.upsert.useMutation({
    onSuccess: () => {
      refresh();
      form.reset();
    },
    onError: (error) => applyServerErrors(error, form.setError, ['name', 'credits', 'priceCents']),
  });
  if (packages.isPending) return <Loading />;
  if (packages.error) return <ErrorState error={packages.error} />;
  const { errors } = form.formState;
  return (
    <Card title="Credit packages">
      <ul className="divide-y divide-slate-100">
        {packages.data.map((pkg: PackageRow) => (
          <li key={pkg.id} className="flex items-center justify-between py-2.5 text-sm">
            <span>
              <strong>{pkg.name}</strong>{' '}
              <span className="text-slate-500">
                {pkg.credits} credits · {formatMoney(pkg.priceCents, pkg.currency)}
              </span>
              {!pkg.active && (
                <span className="ml-2 rounded bg-slate-100 px-1.5 text-xs text-slate-500">archived</span>
              )}
            </span>
            {canWrite && pkg.active && (
              <ConfirmButton
                label="Archive"
                title={`Archive ${pkg.name}?`}
                description="It is no longer sold."
                confirmLabel="Archive"
                onConfirm={() => archive.mutate({ id: pkg.id })}
              />
            )}
          </li>
        ))}
      </ul>
      {canWrite && (
        <form
          noValidate
          className="mt-4 grid gap-3 sm:grid-cols-4 sm:items-end"
          onSubmit={form.handleSubmit((values) => upsert.mutate(values))}
        >
          <Field label="Name" error={errors.name?.message}>
            {(c) => <Input {...c} {...form.register('name')} />}
          </Field>
          <Field label="Credits" error={errors.credits?.message}>
            {(c) => <Input {...c} type="number" {...form.register('credits', { valueAsNumber: true })} />}
          </Field>
          <Field label="Price (cents)" error={errors.priceCents?.message}>
            {(c) => <Input {...c} type="number" {...form.register('priceCents', { valueAsNumber: true })} />}
          </Field>
          <Button type="submit" busy={upsert.isPending}>
            Add package
          </Button>
        </form>
      )}
    </Card>
  );
}

function Settings({ canWrite }: { canWrite: boolean }) {
  const utils = trpc.useUtils();
  const settings = trpc.admin.settings.get.useQuery();
  const form = useForm<SettingsValues>({ resolver: zodResolver(settingsUpdateInput), values: settings.data });
  const update = trpc.admin.settings.update.useMutation({
    onSuccess: () => {
      void utils.admin.settings.get.invalidate();
      void utils.credits.costs.invalidate();
    },
    onError: (error) => applyServerErrors(error, form.setError, ['signupBonus']),
  });
  if (settings.isPending) return <Loading />;
  if (settings.error) return <ErrorState error={settings.error} />;
  return (
    <Card title="Feature costs and sign-up bonus">
      <form
        noValidate
        className="grid gap-3 sm:grid-cols-3"
        onSubmit={form.handleSubmit((values) => update.mutate(values))}
      >
        {OPERATION_TYPES.map((op) => (
          <Field
            key={op}
            label={`${humanize(op)} (per output)`}
            error={form.formState.errors.featureCosts?.[op]?.message}
          >
            {(c) => (
              <Input
                {...c}
                type="number"
                disabled={!canWrite}
                {...form.register(`featureCosts.${op}`, { valueAsNumber: true })}
              />
            )}
          </Field>
        ))}
        <Field label="Sign-up bonus" error={form.formState.errors.signupBonus?.message}>
          {(c) => (
            <Input
              {...c}
              type="number"
              disabled={!canWrite}
              {...form.register('signupBonus', { valueAsNumber: true })}
            />
          )}
        </Field>
        {canWrite && (
          <div className="sm:col-span-3">
            <Button type="submit" busy={update.isPending}>
              Save settings
            </Button>
            {update.isSuccess && (
              <span role="status" className="ml-3 text-sm text-emerald-700">
                Saved
              </span>
            )}
          </div>
        )}
      </form>
    </Card>
  );
}

export function AdminCatalogPage() {
  const { canWrite } = useStaffRole();
  return (
    <>
      <PageHeader title="Catalog" description="What is sold, and what things cost in credits." />
      <div className="space-y-6">
        <Plans canWrite={canWrite} />
        <Packages canWrite={canWrite} />
        <Settings canWrite={canWrite} />
      </div>
    </>
  );
}
