// Settings: the sign-in providers linked to the account (link, unlink) and, for an account made
// through a provider, the way to get a password (the reset email). Linking is the provider flow
// started while signed in; it comes back here with `?linked=` or `?oauth_error=`.
import { useSearchParams } from 'react-router';
import { OAUTH_PROVIDER_LABELS, type OAuthProvider } from '../../../../shared/schemas/identity.ts';
import { formatRelative } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm-button.tsx';
import { FormError } from '../../ui/field.tsx';
import { Card, ErrorState, Loading } from '../../ui/layout.tsx';
import { ProviderIcon, useOAuthFailure } from './oauth-buttons.tsx';

export function LinkedAccountsCard() {
  const providers = trpc.auth.oauth.providers.useQuery(undefined, { staleTime: Infinity });
  const linked = trpc.account.oauth.list.useQuery();
  const profile = trpc.account.get.useQuery();
  const utils = trpc.useUtils();
  const unlink = trpc.account.oauth.unlink.useMutation({
    onSuccess: () => utils.account.oauth.list.invalidate(),
  });
  const setPassword = trpc.auth.requestPasswordReset.useMutation();
  const [params] = useSearchParams();
  const failure = useOAuthFailure();
  const justLinked = params.get('linked') as OAuthProvider | null;

  if (providers.isPending || linked.isPending || profile.isPending) {
    return (
      <Card title="Sign-in methods">
        <Loading />
      </Card>
    );
  }
  if (providers.isError || linked.isError || profile.isError) {
    const error = providers.error ?? linked.error ?? profile.error;
    return (
      <Card title="Sign-in methods">
        <ErrorState
          error={error}
          retry={() => Promise.all([providers.refetch(), linked.refetch(), profile.refetch()])}
        />
      </Card>
    );
  }

  // Configured providers, plus any linked earlier whose provider has since been turned off.
  const rows = [
    ...new Set<OAuthProvider>([...providers.data.map((p) => p.id), ...linked.data.map((a) => a.provider)]),
  ];
  if (rows.length === 0) return null;
  const { hasPassword, email } = profile.data;
  const waysIn = linked.data.length + (hasPassword ? 1 : 0);
  const configured = new Set(providers.data.map((p) => p.id));

  return (
    <Card title="Sign-in methods">
      <div className="space-y-3">
        {justLinked && Object.hasOwn(OAUTH_PROVIDER_LABELS, justLinked) && (
          <p role="status" className="rounded-lg bg-emerald-50 px-3 py-2 text-sm text-emerald-700">
            {OAUTH_PROVIDER_LABELS[justLinked]} is linked: you can sign in with it.
          </p>
        )}
        <FormError message={failure ?? unlink.error?.message} />
        <ul className="divide-y divide-slate-100" aria-label="Sign-in methods">
          <li className="flex items-center justify-between gap-3 py-3 text-sm">
            <div>
              <p className="font-medium text-slate-800">Password</p>
              <p className="text-xs text-slate-600">
                {hasPassword ? 'Set' : 'Not set: you sign in with a linked account.'}
              </p>
            </div>
            {!hasPassword &&
              (setPassword.isSuccess ? (
                <span role="status" className="text-xs text-slate-600">
                  Check your inbox for the link.
                </span>
              ) : (
                <Button
                  variant="secondary"
                  busy={setPassword.isPending}
                  onClick={() => setPassword.mutate({ email })}
                >
                  Set a password
                </Button>
              ))}
          </li>
          {rows.map((provider) => {
            const account = linked.data.find((a) => a.provider === provider);
            const label = OAUTH_PROVIDER_LABELS[provider];
            const last = account !== undefined && waysIn <= 1;
            return (
              <li key={provider} className="flex items-center justify-between gap-3 py-3 text-sm">
                <div className="flex items-center gap-3">
                  <ProviderIcon provider={provider} />
                  <div>
                    <p className="font-medium text-slate-800">{label}</p>
                    <p className="text-xs text-slate-600">
                      {account
                        ? `${account.username ?? account.email ?? 'Linked'} · linked ${formatRelative(account.linkedAt)}`
                        : 'Not linked'}
                    </p>
                  </div>
                </div>
                {account ? (
                  last ? (
                    <span className="max-w-40 text-right text-xs text-slate-600">
                      Your only way to sign in: set a password to unlink it.
                    </span>
                  ) : (
                    <ConfirmButton
                      label={
                        <>
                          Unlink<span className="sr-only"> {label}</span>
                        </>
                      }
                      title={`Unlink ${label}?`}
                      description={`You will no longer be able to sign in with ${label}.`}
                      confirmLabel="Unlink"
                      busy={unlink.isPending && unlink.variables?.provider === provider}
                      onConfirm={() => unlink.mutate({ provider })}
                    />
                  )
                ) : (
                  configured.has(provider) && (
                    <a
                      href={`/auth/oauth/${provider}`}
                      className="inline-flex items-center rounded-lg bg-white px-3.5 py-2 text-sm font-semibold text-slate-800 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50"
                    >
                      {`Link ${label}`}
                    </a>
                  )
                )}
              </li>
            );
          })}
        </ul>
      </div>
    </Card>
  );
}
