// Plans, credit packages, feature costs and the sign-up bonus. Prices are edited in money
// ("9.99"), stored in cents; both plans and packages can be edited and archived. Feature costs are
// versioned: a change is a new version, now or from a chosen moment (generations keep the price
// they were created with), listed with its author under "Feature cost history".
import { useState } from 'react';
import { type FieldValues, type Path, type UseFormSetError, useForm } from 'react-hook-form';
import type { z } from 'zod';
import {
  packageUpsertInput,
  planUpsertInput,
  settingsUpdateInput,
} from '../../../../shared/schemas/admin.ts';
import { OPERATION_TYPES } from '../../../../shared/schemas/credits.ts';
import { useStaffRole } from '../../features/admin/use-role.ts';
import {
  centsToAmount,
  formatCredits,
  formatDateTime,
  formatMoney,
  formatNumber,
  humanize,
  parseMoney,
} from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { zodResolver } from '../../lib/zod-form.ts';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm-button.tsx';
import { Field, FormError, FormField, Input } from '../../ui/field.tsx';
import { applyServerErrors, issuesByPath, placeFieldErrors } from '../../ui/form.ts';
import { Card, PageHeader } from '../../ui/layout.tsx';
import { QueryState } from '../../ui/query-state.tsx';
import { ScrollX } from '../../ui/scroll-x.tsx';
import { SkeletonRows } from '../../ui/skeleton.tsx';

type PlanRow = RouterOutputs['admin']['plans']['list'][number];
type PackageRow = RouterOutputs['admin']['packages']['list'][number];
type SettingsValues = z.input<typeof settingsUpdateInput>;

const AMOUNT_HELP = 'Enter an amount like 9 or 9.99';

/**
 * Validates a money form: amounts parsed to cents (an unreadable one is an error on its field),
 * then the shared schema, whose issues land on the form's fields (cents paths renamed).
 */
function validateMoneyForm<T extends FieldValues, S extends z.ZodType>(
  schema: S,
  values: Record<string, unknown>,
  amounts: Record<string, Path<T>>,
  setError: UseFormSetError<T>,
  fields: readonly Path<T>[],
): z.output<S> | null {
  const input: Record<string, unknown> = { ...values };
  let ok = true;
  for (const [centsKey, field] of Object.entries(amounts)) {
    const cents = parseMoney(String(values[field] ?? ''));
    if (cents === null) {
      setError(field, { type: 'validate', message: AMOUNT_HELP });
      ok = false;
    }
    // An unreadable amount already has its message: the schema checks the other fields.
    input[centsKey] = cents ?? 0;
    delete input[field];
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    placeFieldErrors(issuesByPath(parsed.error), setError, fields, amounts);
    return null;
  }
  return ok ? parsed.data : null;
}

type PlanFormValues = {
  key: string;
  name: string;
  description: string;
  creditsPerPeriod: number;
  priceMonthly: string;
  priceYearly: string;
  featuresText: string;
  badge: string;
  highlight: boolean;
  stripePriceMonthlyId: string;
  stripePriceYearlyId: string;
  polarProductMonthlyId: string;
  polarProductYearlyId: string;
};
const PLAN_FIELDS = [
  'key',
  'name',
  'description',
  'creditsPerPeriod',
  'priceMonthly',
  'priceYearly',
  'badge',
  'stripePriceMonthlyId',
  'stripePriceYearlyId',
  'polarProductMonthlyId',
  'polarProductYearlyId',
] as const;
const PLAN_AMOUNTS = { priceMonthlyCents: 'priceMonthly', priceYearlyCents: 'priceYearly' } as const;

function PlanForm({ plan, onDone }: { plan: PlanRow | null; onDone: () => void }) {
  const utils = trpc.useUtils();
  const form = useForm<PlanFormValues>({
    defaultValues: {
      key: plan?.key ?? '',
      name: plan?.name ?? '',
      description: plan?.description ?? '',
      creditsPerPeriod: plan?.creditsPerPeriod ?? 0,
      priceMonthly: centsToAmount(plan?.priceMonthlyCents ?? 0),
      priceYearly: centsToAmount(plan?.priceYearlyCents ?? 0),
      featuresText: plan?.features.join('\n') ?? '',
      badge: plan?.badge ?? '',
      highlight: plan?.highlight ?? false,
      stripePriceMonthlyId: plan?.stripePriceMonthlyId ?? '',
      stripePriceYearlyId: plan?.stripePriceYearlyId ?? '',
      polarProductMonthlyId: plan?.polarProductMonthlyId ?? '',
      polarProductYearlyId: plan?.polarProductYearlyId ?? '',
    },
  });
  const upsert = trpc.admin.plans.upsert.useMutation({
    onSuccess: () => {
      void utils.admin.plans.list.invalidate();
      void utils.billing.plans.invalidate();
      onDone();
    },
    onError: (error) => applyServerErrors(error, form.setError, PLAN_FIELDS, PLAN_AMOUNTS),
  });
  const { errors } = form.formState;
  const currency = plan?.currency ?? 'usd';
  const code = currency.toUpperCase();
  return (
    <form
      noValidate
      aria-label={plan ? `Edit ${plan.name}` : 'New plan'}
      className="grid gap-3 sm:grid-cols-2"
      onSubmit={form.handleSubmit(({ featuresText, ...values }) => {
        const data = validateMoneyForm(
          planUpsertInput,
          {
            // Fields this form does not edit keep their values.
            ...(plan
              ? {
                  currency: plan.currency,
                  ctaType: plan.ctaType,
                  ctaLabel: plan.ctaLabel,
                  ctaUrl: plan.ctaUrl,
                  sortOrder: plan.sortOrder,
                }
              : {}),
            ...values,
            id: plan?.id,
            description: values.description || null,
            badge: values.badge || null,
            features: featuresText
              .split('\n')
              .map((f) => f.trim())
              .filter(Boolean),
          },
          PLAN_AMOUNTS,
          form.setError,
          PLAN_FIELDS,
        );
        if (data) upsert.mutate(data);
      })}
    >
      <FormField form={form} name="key" label="Key" hint="Lowercase letters, digits, - and _" />
      <FormField form={form} name="name" label="Name" />
      <FormField form={form} name="priceMonthly" label={`Monthly price (${code})`} currency={currency} />
      <FormField form={form} name="priceYearly" label={`Yearly price (${code})`} currency={currency} />
      <FormField form={form} name="creditsPerPeriod" label="Credits per month" type="number" min={0} />
      <FormField form={form} name="badge" label="Badge" hint="e.g. “Most popular”" />
      <FormField form={form} name="stripePriceMonthlyId" label="Stripe price, monthly (price_…)" />
      <FormField form={form} name="stripePriceYearlyId" label="Stripe price, yearly (price_…)" />
      <FormField form={form} name="polarProductMonthlyId" label="Polar product, monthly" />
      <FormField form={form} name="polarProductYearlyId" label="Polar product, yearly" />
      <FormField form={form} name="featuresText" label="Features (one per line)" textarea />
      <FormField form={form} name="description" label="Description" textarea />
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" {...form.register('highlight')} /> Highlight on the pricing page
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
    onSuccess: () => {
      void utils.admin.plans.list.invalidate();
      void utils.billing.plans.invalidate();
    },
  });
  const [editing, setEditing] = useState<PlanRow | 'new' | null>(null);
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
          <PlanForm
            key={editing === 'new' ? 'new' : editing.id}
            plan={editing === 'new' ? null : editing}
            onDone={() => setEditing(null)}
          />
        </div>
      )}
      <QueryState query={plans} skeleton={<SkeletonRows rows={4} label="Loading plans" />}>
        {(data) => (
          <ul className="divide-y divide-slate-100" aria-label="Plans">
            {data.map((plan) => (
              <CatalogItem
                key={plan.id}
                name={plan.name}
                code={plan.key}
                active={plan.active}
                detail={`${formatMoney(plan.priceMonthlyCents, plan.currency)}/mo · ${formatMoney(plan.priceYearlyCents, plan.currency)}/yr · ${formatCredits(plan.creditsPerPeriod)}`}
                canWrite={canWrite}
                archiveHelp="It leaves the pricing page; current subscribers keep it."
                onEdit={() => setEditing(plan)}
                onArchive={() => archive.mutate({ id: plan.id })}
              />
            ))}
          </ul>
        )}
      </QueryState>
    </Card>
  );
}

/**
 * A plan or a package in its list: name, key, whether archived, what it sells for; for staff who
 * may write, Edit and Archive (after a confirmation that says what archiving does).
 */
function CatalogItem({
  name,
  code,
  active,
  detail,
  canWrite,
  archiveHelp,
  onEdit,
  onArchive,
}: {
  name: string;
  code?: string;
  active: boolean;
  detail: string;
  canWrite: boolean;
  archiveHelp: string;
  onEdit: () => void;
  onArchive: () => void;
}) {
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-2.5 text-sm">
      <span className="min-w-0">
        <strong>{name}</strong> {code && <span className="font-mono text-xs text-slate-600">{code}</span>}
        {!active && <span className="ml-2 rounded bg-slate-100 px-1.5 text-xs text-slate-700">archived</span>}
        <span className="block text-slate-600 sm:ml-2 sm:inline">{detail}</span>
      </span>
      {canWrite && (
        <span className="flex gap-1">
          <Button variant="ghost" aria-label={`Edit ${name}`} onClick={onEdit}>
            Edit
          </Button>
          {active && (
            <ConfirmButton
              label="Archive"
              aria-label={`Archive ${name}`}
              title={`Archive ${name}?`}
              description={archiveHelp}
              confirmLabel="Archive"
              onConfirm={onArchive}
            />
          )}
        </span>
      )}
    </li>
  );
}

type PackageFormValues = { name: string; credits: number; price: string };
const PACKAGE_FIELDS = ['name', 'credits', 'price'] as const;
const PACKAGE_AMOUNTS = { priceCents: 'price' } as const;

function PackageForm({ pkg, onDone }: { pkg: PackageRow | null; onDone: () => void }) {
  const utils = trpc.useUtils();
  const form = useForm<PackageFormValues>({
    defaultValues: pkg
      ? { name: pkg.name, credits: pkg.credits, price: centsToAmount(pkg.priceCents) }
      : { name: '', credits: 100, price: '5' },
  });
  const upsert = trpc.admin.packages.upsert.useMutation({
    onSuccess: () => {
      void utils.admin.packages.list.invalidate();
      void utils.billing.packages.invalidate();
      if (pkg) onDone();
      else form.reset();
    },
    onError: (error) => applyServerErrors(error, form.setError, PACKAGE_FIELDS, PACKAGE_AMOUNTS),
  });
  const { errors } = form.formState;
  const currency = pkg?.currency ?? 'usd';
  return (
    <form
      noValidate
      aria-label={pkg ? `Edit ${pkg.name}` : 'New package'}
      className="grid gap-3 sm:grid-cols-[2fr_1fr_1fr_auto] sm:items-start"
      onSubmit={form.handleSubmit((values) => {
        const data = validateMoneyForm(
          packageUpsertInput,
          {
            ...(pkg
              ? {
                  currency: pkg.currency,
                  sortOrder: pkg.sortOrder,
                  stripePriceId: pkg.stripePriceId,
                  polarProductId: pkg.polarProductId,
                }
              : {}),
            ...values,
            id: pkg?.id,
          },
          PACKAGE_AMOUNTS,
          form.setError,
          PACKAGE_FIELDS,
        );
        if (data) upsert.mutate(data);
      })}
    >
      <FormField form={form} name="name" label="Name" />
      <FormField form={form} name="credits" label="Credits" type="number" min={1} />
      <FormField form={form} name="price" label={`Price (${currency.toUpperCase()})`} currency={currency} />
      <div className="flex gap-2 sm:pt-6">
        <Button type="submit" busy={upsert.isPending}>
          {pkg ? 'Save package' : 'Add package'}
        </Button>
        {pkg && (
          <Button variant="ghost" onClick={onDone}>
            Cancel
          </Button>
        )}
      </div>
      <div className="sm:col-span-4">
        <FormError message={errors.root?.server?.message} />
      </div>
    </form>
  );
}

function Packages({ canWrite }: { canWrite: boolean }) {
  const utils = trpc.useUtils();
  const packages = trpc.admin.packages.list.useQuery();
  const archive = trpc.admin.packages.archive.useMutation({
    onSuccess: () => {
      void utils.admin.packages.list.invalidate();
      void utils.billing.packages.invalidate();
    },
  });
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <Card title="Credit packages">
      <QueryState query={packages} skeleton={<SkeletonRows rows={3} label="Loading packages" />}>
        {(data) => (
          <ul className="divide-y divide-slate-100" aria-label="Credit packages">
            {data.map((pkg) =>
              editing === pkg.id ? (
                <li key={pkg.id} className="rounded-xl bg-slate-50 p-4">
                  <PackageForm pkg={pkg} onDone={() => setEditing(null)} />
                </li>
              ) : (
                <CatalogItem
                  key={pkg.id}
                  name={pkg.name}
                  active={pkg.active}
                  detail={`${formatCredits(pkg.credits)} · ${formatMoney(pkg.priceCents, pkg.currency)}`}
                  canWrite={canWrite}
                  archiveHelp="It is no longer sold. Credits already bought stay."
                  onEdit={() => setEditing(pkg.id)}
                  onArchive={() => archive.mutate({ id: pkg.id })}
                />
              ),
            )}
          </ul>
        )}
      </QueryState>
      {canWrite && (
        <div className="mt-4 border-t border-slate-100 pt-4">
          <h3 className="mb-2 text-sm font-semibold text-slate-900">Add a package</h3>
          <PackageForm pkg={null} onDone={() => {}} />
        </div>
      )}
    </Card>
  );
}

function Settings({ canWrite }: { canWrite: boolean }) {
  const utils = trpc.useUtils();
  const settings = trpc.admin.settings.get.useQuery();
  const form = useForm<SettingsValues>({
    resolver: zodResolver(settingsUpdateInput),
    values: settings.data
      ? { featureCosts: settings.data.featureCosts, signupBonus: settings.data.signupBonus }
      : undefined,
  });
  // When new costs take effect: empty = now (a datetime-local value, in the browser's time zone).
  const [effectiveOn, setEffectiveOn] = useState('');
  const update = trpc.admin.settings.update.useMutation({
    onSuccess: () => {
      setEffectiveOn('');
      void utils.admin.settings.get.invalidate();
      void utils.admin.settings.versions.invalidate();
      void utils.credits.costs.invalidate();
    },
    onError: (error) => {
      const fields = [
        'signupBonus',
        'effectiveFrom',
        ...OPERATION_TYPES.map((op) => `featureCosts.${op}` as const),
      ] as const;
      applyServerErrors(error, form.setError, fields);
    },
  });
  const next = settings.data?.nextPriceVersion;
  return (
    <Card title="Feature costs and sign-up bonus">
      <QueryState query={settings} skeleton={<SkeletonRows rows={2} label="Loading settings" />}>
        {() => (
          <form
            noValidate
            className="grid gap-3 sm:grid-cols-3"
            onSubmit={form.handleSubmit((values) =>
              update.mutate({
                featureCosts: values.featureCosts,
                signupBonus: values.signupBonus,
                ...(effectiveOn ? { effectiveFrom: new Date(effectiveOn) } : {}),
              }),
            )}
          >
            {OPERATION_TYPES.map((op) => (
              <FormField
                key={op}
                form={form}
                name={`featureCosts.${op}`}
                label={`${humanize(op)} (credits per output)`}
                type="number"
                min={0}
                disabled={!canWrite}
              />
            ))}
            <FormField
              form={form}
              name="signupBonus"
              label="Sign-up bonus (credits)"
              type="number"
              min={0}
              disabled={!canWrite}
            />
            {canWrite && (
              <Field
                label="New costs take effect (optional)"
                error={form.formState.errors.effectiveFrom?.message}
                hint="Empty: at once. Generations already created keep the price they were created with."
              >
                {(c) => (
                  <Input
                    {...c}
                    type="datetime-local"
                    value={effectiveOn}
                    onChange={(event) => setEffectiveOn(event.target.value)}
                  />
                )}
              </Field>
            )}
            {next && (
              <p className="text-sm text-amber-800 sm:col-span-3" data-testid="next-price-version">
                Scheduled from {formatDateTime(next.effectiveFrom)}:{' '}
                {OPERATION_TYPES.map((op) => `${humanize(op)} ${next.costs[op]}`).join(' · ')}
              </p>
            )}
            {canWrite && (
              <div className="sm:col-span-3">
                <FormError message={form.formState.errors.root?.server?.message} />
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
        )}
      </QueryState>
    </Card>
  );
}

type PriceVersion = RouterOutputs['admin']['settings']['versions'][number];

const operationLabel = (op: (typeof OPERATION_TYPES)[number]) => humanize(op).replace(' generation', '');

function VersionState({ state }: { state: PriceVersion['state'] }) {
  const tone =
    state === 'current'
      ? 'bg-emerald-50 text-emerald-800'
      : state === 'scheduled'
        ? 'bg-amber-50 text-amber-800'
        : 'bg-slate-100 text-slate-600';
  return (
    <span className={`rounded-full px-2 py-0.5 text-xs ${tone}`}>
      {state === 'current' ? 'in force' : state}
    </span>
  );
}

/**
 * Every version of the feature costs: scheduled, in force, past — who made it, how many generations
 * it priced. A table from the small breakpoint up; on a phone each version is a short block (its
 * costs on one line), so nothing scrolls sideways.
 */
function PriceHistory() {
  const versions = trpc.admin.settings.versions.useQuery();
  return (
    <Card title="Feature cost history">
      <QueryState
        query={versions}
        skeleton={<SkeletonRows rows={3} label="Loading the feature cost history" />}
      >
        {(rows) => (
          <>
            <ScrollX label="Feature cost versions" className="-mx-5 hidden px-5 sm:block">
              <table
                className="w-full text-left text-sm whitespace-nowrap"
                aria-label="Feature cost versions"
              >
                <thead className="text-xs uppercase tracking-wide text-slate-600">
                  <tr>
                    <th className="py-2 pr-4 font-semibold">Effective from</th>
                    <th className="py-2 pr-4 font-semibold">State</th>
                    {OPERATION_TYPES.map((op) => (
                      <th key={op} className="py-2 pr-4 text-right font-semibold">
                        {operationLabel(op)}
                      </th>
                    ))}
                    <th className="py-2 pr-4 font-semibold">By</th>
                    <th className="py-2 text-right font-semibold">Generations</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {rows.map((version) => (
                    <tr key={version.id}>
                      <td className="py-2 pr-4 whitespace-nowrap">{formatDateTime(version.effectiveFrom)}</td>
                      <td className="py-2 pr-4">
                        <VersionState state={version.state} />
                      </td>
                      {OPERATION_TYPES.map((op) => (
                        <td key={op} className="py-2 pr-4 text-right tabular-nums">
                          {version.costs[op]}
                        </td>
                      ))}
                      <td className="py-2 pr-4">{version.createdBy?.email ?? 'system'}</td>
                      <td className="py-2 text-right tabular-nums">{formatNumber(version.generations)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollX>
            <ul className="divide-y divide-slate-100 text-sm sm:hidden" aria-label="Feature cost versions">
              {rows.map((version) => (
                <li key={version.id} className="space-y-1 py-3">
                  <div className="flex items-center justify-between gap-2">
                    <span className="font-medium text-slate-900">
                      {formatDateTime(version.effectiveFrom)}
                    </span>
                    <VersionState state={version.state} />
                  </div>
                  <div className="flex flex-wrap gap-x-3 tabular-nums text-slate-700">
                    {OPERATION_TYPES.map((op) => (
                      <span key={op}>
                        {operationLabel(op)} <strong className="font-semibold">{version.costs[op]}</strong>
                      </span>
                    ))}
                  </div>
                  <div className="break-all text-xs text-slate-600">
                    by {version.createdBy?.email ?? 'system'} · {formatNumber(version.generations)}{' '}
                    {version.generations === 1 ? 'generation' : 'generations'}
                  </div>
                </li>
              ))}
            </ul>
          </>
        )}
      </QueryState>
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
        <PriceHistory />
      </div>
    </>
  );
}
