// Account settings: profile, email verification, password, sessions, deactivation.
import { useEffect } from 'react';
import { useForm } from 'react-hook-form';
import { Link } from 'react-router';
import type { z } from 'zod';
import {
  accountUpdateInput,
  changePasswordInput,
  deactivateInput,
} from '../../../shared/schemas/identity.ts';
import { LinkedAccountsCard } from '../features/identity/linked-accounts-card.tsx';
import { useSessionChanged } from '../features/identity/use-session.ts';
import { formatDateTime, formatRelative } from '../lib/format.ts';
import { trpc } from '../lib/trpc.ts';
import { zodResolver } from '../lib/zod-form.ts';
import { Button } from '../ui/button.tsx';
import { ConfirmButton } from '../ui/confirm-button.tsx';
import { Field, FormError, FormField, Input } from '../ui/field.tsx';
import { applyServerErrors } from '../ui/form.ts';
import { Card, ErrorState, Loading, PageHeader } from '../ui/layout.tsx';

export function SettingsPage() {
  return (
    <>
      <PageHeader
        title="Settings"
        description={
          <>
            Your profile, password, sign-in methods and sessions.{' '}
            <Link to="/settings/api-keys" className="font-medium text-indigo-700 hover:underline">
              API keys →
            </Link>
          </>
        }
      />
      <div className="grid gap-6 lg:grid-cols-2">
        <ProfileCard />
        <PasswordCard />
        <LinkedAccountsCard />
        <SessionsCard />
        <DeactivateCard />
      </div>
    </>
  );
}

function ProfileCard() {
  const profile = trpc.account.get.useQuery();
  const utils = trpc.useUtils();
  const form = useForm<z.input<typeof accountUpdateInput>>({ resolver: zodResolver(accountUpdateInput) });
  useEffect(() => {
    if (profile.data) {
      form.reset({
        name: profile.data.name,
        firstName: profile.data.firstName ?? '',
        lastName: profile.data.lastName ?? '',
        avatarUrl: profile.data.avatarUrl ?? '',
      });
    }
  }, [profile.data, form]);
  const update = trpc.account.update.useMutation({
    onSuccess: async () => {
      await Promise.all([utils.account.get.invalidate(), utils.auth.me.invalidate()]);
    },
    onError: (error) =>
      applyServerErrors(error, form.setError, ['name', 'firstName', 'lastName', 'avatarUrl']),
  });
  const verification = trpc.auth.requestEmailVerification.useMutation();
  const { errors } = form.formState;
  if (profile.isPending)
    return (
      <Card title="Profile">
        <Loading />
      </Card>
    );
  if (profile.isError)
    return (
      <Card title="Profile">
        <ErrorState error={profile.error} retry={() => profile.refetch()} />
      </Card>
    );
  return (
    <Card title="Profile">
      <div className="mb-4 flex flex-wrap items-center gap-2 text-sm">
        <span className="text-slate-700">{profile.data.email}</span>
        {profile.data.emailVerifiedAt ? (
          <span className="rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-700">
            verified
          </span>
        ) : verification.isSuccess ? (
          <span role="status" className="text-xs text-slate-600">
            {verification.data.sent ? 'Check your inbox for the link.' : 'Already verified.'}
          </span>
        ) : (
          <>
            <span className="rounded-full bg-amber-50 px-2 py-0.5 text-xs font-medium text-amber-700">
              not verified
            </span>
            <Button variant="ghost" busy={verification.isPending} onClick={() => verification.mutate()}>
              Send verification email
            </Button>
          </>
        )}
        {verification.isError && (
          <span role="alert" className="text-xs text-red-700">
            {verification.error.message}
          </span>
        )}
      </div>
      <form noValidate className="space-y-4" onSubmit={form.handleSubmit((values) => update.mutate(values))}>
        <FormField form={form} name="name" label="Display name" autoComplete="nickname" />
        <div className="grid gap-4 sm:grid-cols-2">
          <FormField form={form} name="firstName" label="First name" autoComplete="given-name" />
          <FormField form={form} name="lastName" label="Last name" autoComplete="family-name" />
        </div>
        <FormField
          form={form}
          name="avatarUrl"
          label="Avatar URL"
          hint="An https:// image"
          type="url"
          rules={{ setValueAs: (v) => v || null }}
        />
        <FormError message={errors.root?.server?.message} />
        <div className="flex items-center gap-3">
          <Button type="submit" busy={update.isPending}>
            Save profile
          </Button>
          {update.isSuccess && !form.formState.isDirty && (
            <span role="status" className="text-sm text-emerald-700">
              Saved
            </span>
          )}
        </div>
      </form>
    </Card>
  );
}

function PasswordCard() {
  const form = useForm<z.input<typeof changePasswordInput>>({
    resolver: zodResolver(changePasswordInput),
    defaultValues: { currentPassword: '', newPassword: '' },
  });
  const utils = trpc.useUtils();
  const change = trpc.auth.changePassword.useMutation({
    onSuccess: async () => {
      form.reset();
      await utils.auth.sessions.list.invalidate();
    },
    onError: (error) => applyServerErrors(error, form.setError, ['currentPassword', 'newPassword']),
  });
  const { errors } = form.formState;
  return (
    <Card title="Password">
      <form noValidate className="space-y-4" onSubmit={form.handleSubmit((values) => change.mutate(values))}>
        <FormField
          form={form}
          name="currentPassword"
          label="Current password"
          type="password"
          autoComplete="current-password"
        />
        <FormField
          form={form}
          name="newPassword"
          label="New password"
          hint="Changing it signs out your other sessions"
          type="password"
          autoComplete="new-password"
        />
        <FormError message={errors.root?.server?.message} />
        <div className="flex items-center gap-3">
          <Button type="submit" busy={change.isPending}>
            Change password
          </Button>
          {change.isSuccess && (
            <span role="status" className="text-sm text-emerald-700">
              Password changed
            </span>
          )}
        </div>
      </form>
    </Card>
  );
}

const device = (userAgent: string | null) => {
  if (!userAgent) return 'Unknown device';
  const browser = /Firefox|Edg|Chrome|Safari/.exec(userAgent)?.[0]?.replace('Edg', 'Edge') ?? 'Browser';
  const os = /Windows|Mac OS X|Android|iPhone|Linux/.exec(userAgent)?.[0]?.replace('Mac OS X', 'macOS') ?? '';
  return os ? `${browser} on ${os}` : browser;
};

function SessionsCard() {
  const sessions = trpc.auth.sessions.list.useQuery();
  const utils = trpc.useUtils();
  const refresh = () => utils.auth.sessions.list.invalidate();
  const revoke = trpc.auth.sessions.revoke.useMutation({ onSuccess: refresh });
  const revokeOthers = trpc.auth.sessions.revokeOthers.useMutation({ onSuccess: refresh });
  const others = sessions.data?.filter((s) => !s.current).length ?? 0;
  return (
    <Card
      title="Sessions"
      actions={
        others > 0 && (
          <ConfirmButton
            label="Sign out everywhere else"
            title="Sign out your other sessions?"
            description={`${others} other session${others === 1 ? '' : 's'} will be signed out.`}
            confirmLabel="Sign them out"
            busy={revokeOthers.isPending}
            onConfirm={() => revokeOthers.mutate()}
          />
        )
      }
    >
      {sessions.isPending ? (
        <Loading />
      ) : sessions.isError ? (
        <ErrorState error={sessions.error} retry={() => sessions.refetch()} />
      ) : (
        <ul className="divide-y divide-slate-100" aria-label="Sessions">
          {sessions.data.map((session) => (
            <li key={session.id} className="flex items-center justify-between gap-3 py-3 text-sm">
              <div>
                <p className="font-medium text-slate-800">
                  {device(session.userAgent)}
                  {session.current && (
                    <span className="ml-2 rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-700">
                      this device
                    </span>
                  )}
                </p>
                <p className="text-xs text-slate-600">
                  {session.ip ?? 'unknown address'} · signed in{' '}
                  {session.createdAt ? formatRelative(session.createdAt) : 'earlier'} · until{' '}
                  {formatDateTime(session.expiresAt)}
                </p>
              </div>
              {!session.current && (
                <Button
                  variant="ghost"
                  busy={revoke.isPending && revoke.variables?.id === session.id}
                  onClick={() => revoke.mutate({ id: session.id })}
                  aria-label={`Sign out ${device(session.userAgent)}`}
                >
                  Sign out
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function DeactivateCard() {
  const form = useForm<z.input<typeof deactivateInput>>({
    resolver: zodResolver(deactivateInput),
    defaultValues: { password: '' },
  });
  const sessionChanged = useSessionChanged();
  const deactivate = trpc.account.deactivate.useMutation({
    onSuccess: () => sessionChanged('/sign-in'),
    onError: (error) => applyServerErrors(error, form.setError, ['password']),
  });
  return (
    <Card title="Deactivate account" className="ring-red-200">
      <p className="mb-4 text-sm text-slate-600">
        Signs you out everywhere and closes the account. Your payment and credit history is kept for
        accounting.
      </p>
      <form
        noValidate
        className="space-y-4"
        onSubmit={form.handleSubmit((values) => deactivate.mutate(values))}
      >
        <Field label="Your password" error={form.formState.errors.password?.message}>
          {(control) => (
            <Input
              {...control}
              type="password"
              autoComplete="current-password"
              {...form.register('password')}
            />
          )}
        </Field>
        <FormError message={form.formState.errors.root?.server?.message} />
        <Button type="submit" variant="danger" busy={deactivate.isPending}>
          Deactivate my account
        </Button>
      </form>
    </Card>
  );
}
