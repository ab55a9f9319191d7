// "Continue with GitHub/Google" on the sign-in and sign-up pages, for the providers the server is
// configured for (none configured: nothing shown). The buttons are plain links: the flow is a
// full-page redirect through GET /auth/oauth/:provider, which comes back to the app signed in, or
// to the sign-in page with `?oauth_error=` — shown here.
import { useSearchParams } from 'react-router';
import { type OAuthProvider, oauthFailureMessage } from '../../../../shared/oauth.ts';
import { trpc } from '../../lib/trpc.ts';
import { FormError } from '../../ui/field.tsx';

export function ProviderIcon({ provider }: { provider: OAuthProvider }) {
  if (provider === 'github') {
    return (
      <svg viewBox="0 0 16 16" className="size-4" fill="currentColor" aria-hidden="true">
        <path d="M8 0C3.58 0 0 3.58 0 8a8 8 0 0 0 5.47 7.59c.4.07.55-.17.55-.38v-1.33c-2.23.48-2.7-1.07-2.7-1.07-.36-.92-.89-1.17-.89-1.17-.73-.5.06-.49.06-.49.8.06 1.23.83 1.23.83.72 1.22 1.87.87 2.33.66.07-.52.28-.87.5-1.07-1.78-.2-3.65-.89-3.65-3.95 0-.87.31-1.59.82-2.15-.08-.2-.36-1.02.08-2.12 0 0 .67-.21 2.2.82a7.6 7.6 0 0 1 4 0c1.53-1.04 2.2-.82 2.2-.82.44 1.1.16 1.92.08 2.12.51.56.82 1.27.82 2.15 0 3.07-1.87 3.75-3.65 3.95.29.25.54.73.54 1.48v2.2c0 .21.15.46.55.38A8 8 0 0 0 16 8c0-4.42-3.58-8-8-8Z" />
      </svg>
    );
  }
  return (
    <svg viewBox="0 0 24 24" className="size-4" aria-hidden="true">
      <path
        fill="#4285F4"
        d="M23.5 12.3c0-.8-.1-1.6-.2-2.3H12v4.5h6.5a5.6 5.6 0 0 1-2.4 3.6v3h3.9c2.3-2.1 3.5-5.2 3.5-8.8Z"
      />
      <path
        fill="#34A853"
        d="M12 24c3.2 0 6-1.1 8-2.9l-3.9-3c-1.1.7-2.5 1.2-4.1 1.2-3.1 0-5.8-2.1-6.7-5H1.3v3.1A12 12 0 0 0 12 24Z"
      />
      <path fill="#FBBC05" d="M5.3 14.3a7.2 7.2 0 0 1 0-4.6V6.6h-4a12 12 0 0 0 0 10.8l4-3.1Z" />
      <path
        fill="#EA4335"
        d="M12 4.8c1.8 0 3.3.6 4.6 1.8l3.4-3.4A12 12 0 0 0 1.3 6.6l4 3.1c.9-2.8 3.6-4.9 6.7-4.9Z"
      />
    </svg>
  );
}

/** The reason a provider flow came back with, as a message (null when there is none). */
export function useOAuthFailure(): string | null {
  const [params] = useSearchParams();
  const reason = params.get('oauth_error');
  return reason ? oauthFailureMessage(reason, params.get('provider')) : null;
}

/** The providers' buttons above the password form, with an "or" divider; the flow's error if any. */
export function OAuthSignIn() {
  const providers = trpc.auth.oauth.providers.useQuery(undefined, { staleTime: Infinity });
  const failure = useOAuthFailure();
  // Loading or failed: the password form alone (the page must never wait on this).
  const list = providers.data ?? [];
  if (!list.length && !failure) return null;
  return (
    <div className="mb-5 space-y-3">
      <FormError message={failure ?? undefined} />
      {list.map((provider) => (
        <a
          key={provider.id}
          href={`/auth/oauth/${provider.id}`}
          className="flex w-full items-center justify-center gap-2 rounded-lg bg-white px-3.5 py-2 text-sm font-semibold text-slate-800 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600"
        >
          <ProviderIcon provider={provider.id} />
          Continue with {provider.name}
        </a>
      ))}
      {list.length > 0 && (
        <div className="flex items-center gap-3 pt-1 text-xs uppercase tracking-wide text-slate-600">
          <span className="h-px flex-1 bg-slate-200" />
          or
          <span className="h-px flex-1 bg-slate-200" />
        </div>
      )}
    </div>
  );
}
