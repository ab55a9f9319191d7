// API keys: create one (its secret is shown once, with a copy button), see when each was used,
// revoke. Keys call the same tRPC API with `Authorization: Bearer fl_…`.
import { useRef, useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import {
  ADMIN_ROLES,
  API_KEY_SCOPES,
  type ApiKeyScope,
  createApiKeyInput,
} from '../../../shared/schemas/identity.ts';
import { useMe } from '../features/identity/use-session.ts';
import { formatDate, formatRelative } from '../lib/format.ts';
import { trpc } from '../lib/trpc.ts';
import { zodResolver } from '../lib/zod-form.ts';
import { Button } from '../ui/button.tsx';
import { ConfirmButton } from '../ui/confirm-button.tsx';
import { Field, FormError, Input } from '../ui/field.tsx';
import { applyServerErrors } from '../ui/form.ts';
import { Card, Empty, ErrorState, Loading, PageHeader } from '../ui/layout.tsx';

const SCOPE_HELP: Record<ApiKeyScope, string> = {
  read: 'Read your data (queries)',
  write: 'Everything you can do (mutations too)',
  'generations:write': 'Only start generations (generations.create; nothing else, not even reads)',
  admin: 'The admin API (administrators only)',
};

const keyForm = createApiKeyInput.pick({ name: true, scopes: true }).extend({ expiresOn: z.string() });
type FormValues = z.input<typeof keyForm>;

export function ApiKeysPage() {
  const keys = trpc.apiKeys.list.useQuery();
  const me = useMe();
  const utils = trpc.useUtils();
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const isAdmin = (ADMIN_ROLES as readonly string[]).includes(me.data?.role ?? 'user');
  const form = useForm<FormValues>({
    resolver: zodResolver(keyForm),
    defaultValues: { name: '', scopes: ['read'], expiresOn: '' },
  });
  const create = trpc.apiKeys.create.useMutation({
    onSuccess: async (key) => {
      setCreated({ name: key.name, secret: key.secret });
      form.reset();
      await utils.apiKeys.list.invalidate();
    },
    onError: (error) => applyServerErrors(error, form.setError, ['name', 'scopes']),
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
      <div className="grid gap-6 lg:grid-cols-[1fr_20rem]">
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
              }),
            )}
          >
            <Field
              label="Name"
              error={errors.name?.message}
              hint="Where it is used, e.g. “CI” or “billing sync”"
            >
              {(control) => <Input {...control} {...form.register('name')} />}
            </Field>
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
            <Field label="Expires on (optional)" error={errors.expiresOn?.message}>
              {(control) => <Input {...control} type="date" {...form.register('expiresOn')} />}
            </Field>
            <FormError message={errors.root?.server?.message} />
            <Button type="submit" className="w-full" busy={create.isPending}>
              Create key
            </Button>
          </form>
        </Card>
      </div>
      <Card title="Using a key" className="mt-6">
        <pre className="overflow-x-auto rounded-lg bg-slate-900 p-4 text-xs text-slate-100">
          {`curl ${window.location.origin}/trpc/credits.balance \\\n  -H "Authorization: Bearer fl_…"`}
        </pre>
      </Card>
    </>
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
