// API keys: create one (its secret is shown once, with a copy button), see when each was used and
// what it spent today against its daily credit budget (optional; the UTC day), change that budget,
// revoke. Keys call the same tRPC API with `Authorization: Bearer fl_…`.
import { useRef, useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import {
  ADMIN_ROLES,
  API_KEY_BUDGET_MAX,
  API_KEY_SCOPES,
  type ApiKeyScope,
  createApiKeyInput,
} from '../../../shared/schemas/identity.ts';
import { useMe } from '../features/identity/use-session.ts';
import { formatDate, formatNumber, formatRelative } from '../lib/format.ts';
import { trpc } from '../lib/trpc.ts';
import { zodResolver } from '../lib/zod-form.ts';
import { Button } from '../ui/button.tsx';
import { ConfirmButton } from '../ui/confirm-button.tsx';
import { Field, FormError, FormField, Input } from '../ui/field.tsx';
import { applyServerErrors } from '../ui/form.ts';
import { Card, Empty, ErrorState, Loading, PageHeader } from '../ui/layout.tsx';
import { ScrollX } from '../ui/scroll-x.tsx';

const SCOPE_HELP: Record<ApiKeyScope, string> = {
  read: 'Read your data (queries)',
  write: 'Everything you can do (mutations too)',
  'generations:write': 'Only start generations (generations.create; nothing else, not even reads)',
  admin: 'The admin API (administrators only)',
};

/** A daily budget as typed: empty (no budget) or a whole number of credits. */
const budgetText = z
  .string()
  .trim()
  .regex(/^\d*$/, { error: 'Whole credits only (or leave it empty for no budget)' })
  .refine((text) => text === '' || (Number(text) >= 1 && Number(text) <= API_KEY_BUDGET_MAX), {
    error: `Between 1 and ${API_KEY_BUDGET_MAX.toLocaleString('en')} credits`,
  });
const budgetOf = (text: string) => (text.trim() === '' ? null : Number(text));

const keyForm = createApiKeyInput
  .pick({ name: true, scopes: true })
  .extend({ expiresOn: z.string(), maxCreditsPerDay: budgetText });
type FormValues = z.input<typeof keyForm>;

export function ApiKeysPage() {
  const keys = trpc.apiKeys.list.useQuery();
  const me = useMe();
  const utils = trpc.useUtils();
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const isAdmin = (ADMIN_ROLES as readonly string[]).includes(me.data?.role ?? 'user');
  const form = useForm<FormValues>({
    resolver: zodResolver(keyForm),
    defaultValues: { name: '', scopes: ['read'], expiresOn: '', maxCreditsPerDay: '' },
  });
  const create = trpc.apiKeys.create.useMutation({
    onSuccess: async (key) => {
      setCreated({ name: key.name, secret: key.secret });
      form.reset();
      await utils.apiKeys.list.invalidate();
    },
    onError: (error) => applyServerErrors(error, form.setError, ['name', 'scopes', 'maxCreditsPerDay']),
  });
  const revoke = trpc.apiKeys.revoke.useMutation({ onSuccess: () => utils.apiKeys.list.invalidate() });
  const { errors } = form.formState;

  return (
    <>
      <PageHeader
        title="API keys"
        description="Call the Forgeline API from scripts and servers. Each key is limited to the scopes you give it."
      />
      {created && <SecretOnce name={created.name} secret={created.secret} onDone={() => setCreated(null)} />}
      <div className="grid items-start gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
        <Card title="Your keys">
          {keys.isPending ? (
            <Loading />
          ) : keys.isError ? (
            <ErrorState error={keys.error} retry={() => keys.refetch()} />
          ) : keys.data.length === 0 ? (
            <Empty title="No API keys yet">Create one to call the API with a bearer token.</Empty>
          ) : (
            <ul className="divide-y divide-slate-100" aria-label="API keys">
              {keys.data.map((key) => {
                const state = key.revokedAt
                  ? 'revoked'
                  : key.expiresAt && key.expiresAt < new Date()
                    ? 'expired'
                    : 'active';
                return (
                  <li key={key.id} className="flex flex-wrap items-center justify-between gap-3 py-3 text-sm">
                    <div className="min-w-0">
                      <p className="font-medium text-slate-800">
                        {key.name}{' '}
                        <code className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">
                          {key.prefix}…
                        </code>
                        {state !== 'active' && (
                          <span className="ml-2 rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-600">
                            {state}
                          </span>
                        )}
                      </p>
                      <p className="text-xs text-slate-600">
                        {key.scopes.join(', ')} · created {formatDate(key.createdAt)} ·{' '}
                        {key.lastUsedAt ? `used ${formatRelative(key.lastUsedAt)}` : 'never used'}
                        {key.expiresAt && ` · expires ${formatDate(key.expiresAt)}`}
                      </p>
                      <p className="text-xs text-slate-600" data-testid="api-key-spend">
                        Today (UTC): {formatNumber(key.spentToday)}
                        {key.maxCreditsPerDay !== null
                          ? ` of ${formatNumber(key.maxCreditsPerDay)} credits a day`
                          : ' credits · no daily budget'}
                      </p>
                      {key.maxCreditsPerDay !== null && (
                        <BudgetBar spent={key.spentToday} budget={key.maxCreditsPerDay} />
                      )}
                      {state === 'active' && (
                        <BudgetEditor id={key.id} name={key.name} budget={key.maxCreditsPerDay} />
                      )}
                    </div>
                    {state === 'active' && (
                      <ConfirmButton
                        label="Revoke"
                        title={`Revoke “${key.name}”?`}
                        description="Anything using this key stops working at once. This cannot be undone."
                        confirmLabel="Revoke key"
                        busy={revoke.isPending && revoke.variables?.id === key.id}
                        onConfirm={() => revoke.mutate({ id: key.id })}
                      />
                    )}
                  </li>
                );
              })}
            </ul>
          )}
        </Card>
        <Card title="New key">
          <form
            noValidate
            className="space-y-4"
            onSubmit={form.handleSubmit((values) =>
              create.mutate({
                name: values.name,
                scopes: values.scopes,
                expiresAt: values.expiresOn ? new Date(`${values.expiresOn}T23:59:59`) : null,
                maxCreditsPerDay: budgetOf(values.maxCreditsPerDay),
              }),
            )}
          >
            <FormField
              form={form}
              name="name"
              label="Name"
              hint="Where it is used, e.g. “CI” or “billing sync”"
            />
            <fieldset className="space-y-2">
              <legend className="text-sm font-medium text-slate-800">Scopes</legend>
              {API_KEY_SCOPES.filter((scope) => scope !== 'admin' || isAdmin).map((scope) => (
                <label key={scope} className="flex items-start gap-2 text-sm">
                  <input type="checkbox" value={scope} className="mt-0.5" {...form.register('scopes')} />
                  <span>
                    <code className="text-xs">{scope}</code>
                    <span className="block text-xs text-slate-600">{SCOPE_HELP[scope]}</span>
                  </span>
                </label>
              ))}
              {errors.scopes?.message && (
                <p role="alert" className="text-sm text-red-700">
                  {errors.scopes.message}
                </p>
              )}
            </fieldset>
            <FormField form={form} name="expiresOn" label="Expires on (optional)" type="date" />
            <FormField
              form={form}
              name="maxCreditsPerDay"
              label="Daily credit budget (optional)"
              hint="Generations through this key may hold or spend at most this much per day (UTC); more is refused until 00:00 UTC"
              inputMode="numeric"
              placeholder="No budget"
            />
            <FormError message={errors.root?.server?.message} />
            <Button type="submit" className="w-full" busy={create.isPending}>
              Create key
            </Button>
          </form>
        </Card>
      </div>
      <Card title="Using a key" className="mt-6">
        <ScrollX label="Example request" className="rounded-lg bg-slate-900 p-4">
          <pre className="text-xs text-slate-100">
            {`curl ${window.location.origin}/trpc/credits.balance \\\n  -H "Authorization: Bearer fl_…"`}
          </pre>
        </ScrollX>
      </Card>
    </>
  );
}

const budgetForm = z.object({ maxCreditsPerDay: budgetText });

/** Sets, changes or removes a key's daily credit budget (apiKeys.update). */
/** Today's spend against the daily budget, as a bar (the line above says it in words). */
function BudgetBar({ spent, budget }: { spent: number; budget: number }) {
  const share = budget > 0 ? Math.min(1, spent / budget) : 1;
  return (
    <div
      aria-hidden="true"
      className="mt-1.5 h-1.5 w-full max-w-56 overflow-hidden rounded-full bg-slate-100"
    >
      <div
        className={`h-full rounded-full ${share >= 1 ? 'bg-red-500' : share >= 0.8 ? 'bg-amber-500' : 'bg-indigo-500'}`}
        style={{ width: `${share * 100}%` }}
      />
    </div>
  );
}

function BudgetEditor({ id, name, budget }: { id: string; name: string; budget: number | null }) {
  const utils = trpc.useUtils();
  const [open, setOpen] = useState(false);
  const form = useForm<z.input<typeof budgetForm>>({
    resolver: zodResolver(budgetForm),
    defaultValues: { maxCreditsPerDay: budget === null ? '' : String(budget) },
  });
  const update = trpc.apiKeys.update.useMutation({
    onSuccess: async () => {
      setOpen(false);
      await utils.apiKeys.list.invalidate();
    },
    onError: (error) => applyServerErrors(error, form.setError, ['maxCreditsPerDay']),
  });
  if (!open) {
    return (
      <button
        type="button"
        className="mt-1 text-xs font-semibold text-indigo-700 hover:underline"
        onClick={() => {
          form.reset({ maxCreditsPerDay: budget === null ? '' : String(budget) });
          setOpen(true);
        }}
      >
        {budget === null ? 'Set a daily budget' : 'Change the daily budget'}
        <span className="sr-only"> of “{name}”</span>
      </button>
    );
  }
  const { errors } = form.formState;
  return (
    <form
      noValidate
      className="mt-2 flex flex-wrap items-end gap-2"
      onSubmit={form.handleSubmit((values) =>
        update.mutate({ id, maxCreditsPerDay: budgetOf(values.maxCreditsPerDay) }),
      )}
    >
      <div className="w-48">
        <Field
          label={`Daily budget of “${name}”`}
          error={errors.maxCreditsPerDay?.message ?? errors.root?.server?.message}
        >
          {(control) => (
            <Input
              {...control}
              inputMode="numeric"
              placeholder="No budget"
              {...form.register('maxCreditsPerDay')}
            />
          )}
        </Field>
      </div>
      <Button type="submit" busy={update.isPending}>
        Save budget
      </Button>
      <Button variant="secondary" onClick={() => setOpen(false)}>
        Cancel
      </Button>
    </form>
  );
}

function SecretOnce({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const field = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
    } catch {
      // No clipboard permission (e.g. plain http): select it for Ctrl+C instead.
      field.current?.select();
      document.execCommand?.('copy');
    }
    setCopied(true);
  };
  return (
    <section
      aria-labelledby="secret-title"
      className="mb-6 rounded-2xl bg-emerald-50 p-5 ring-1 ring-emerald-200"
      data-testid="new-api-key"
    >
      <h2 id="secret-title" className="font-semibold text-emerald-900">
        Your new key “{name}”
      </h2>
      <p className="mt-1 text-sm text-emerald-800">Copy it now: it will not be shown again.</p>
      <div className="mt-3 flex flex-wrap gap-2">
        <input
          ref={field}
          readOnly
          value={secret}
          aria-label="API key secret"
          onFocus={(event) => event.currentTarget.select()}
          className="min-w-0 flex-1 rounded-lg border border-emerald-300 bg-white px-3 py-2 font-mono text-sm"
        />
        <Button onClick={copy}>{copied ? 'Copied' : 'Copy'}</Button>
        <Button variant="secondary" onClick={onDone}>
          Done
        </Button>
      </div>
    </section>
  );
}
