// OAuth sign-in: the providers and the messages for a flow that did not complete. No zod here:
// the sign-in page imports these, and its first load stays free of validation code.
/** Sign-in providers (OAuth). Which are on depends on the server's configuration (auth.oauth.providers). */
export const OAUTH_PROVIDERS = ['github', 'google'] as const;
export type OAuthProvider = (typeof OAUTH_PROVIDERS)[number];
export const OAUTH_PROVIDER_LABELS: Record<OAuthProvider, string> = { github: 'GitHub', google: 'Google' };

/**
 * Why a provider sign-in or link did not complete. The callback redirects to the sign-in page (or
 * settings) with `?oauth_error=<reason>&provider=<provider>`; the client shows the message.
 */
export const OAUTH_FAILURES = {
  state_mismatch: 'The sign-in expired or was started in another browser. Please try again.',
  provider_denied: 'Signing in with {provider} was cancelled.',
  provider_failed: '{provider} did not confirm the sign-in. Please try again.',
  no_email:
    '{provider} did not share an email address with us. Add one at {provider}, or sign up with email and password.',
  email_in_use:
    'An account with this email already exists. Sign in with your password, then link {provider} in Settings.',
  account_banned: 'This account is suspended.',
  account_deactivated: 'This account is deactivated.',
  linked_to_other_user: 'This {provider} account is already linked to another Forgeline account.',
  provider_already_linked: 'Your account is already linked to another {provider} account. Unlink it first.',
  rate_limited: 'Too many sign-in attempts from your network. Please wait a few minutes.',
  try_again: 'Something went wrong while signing in. Please try again.',
} as const;
export type OAuthFailure = keyof typeof OAUTH_FAILURES;

/** The message for a failure reason from the callback's redirect (unknown reasons: a generic one). */
export function oauthFailureMessage(reason: string | null, provider: string | null): string {
  const label =
    provider && Object.hasOwn(OAUTH_PROVIDER_LABELS, provider)
      ? OAUTH_PROVIDER_LABELS[provider as OAuthProvider]
      : 'The provider';
  const template =
    reason && Object.hasOwn(OAUTH_FAILURES, reason)
      ? OAUTH_FAILURES[reason as OAuthFailure]
      : OAUTH_FAILURES.try_again;
  return template.replaceAll('{provider}', label);
}
