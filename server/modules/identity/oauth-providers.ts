// The sign-in providers' clients, on arctic. Both go through arctic's generic OAuth2Client so the
// endpoints come from configuration (the defaults are GitHub's and Google's; tests point them at
// loopback servers) and production runs exactly the code the tests run.
//
// GitHub: OAuth 2 (no PKCE on classic OAuth apps), then its REST API for the user and their
// emails. Google: OpenID Connect with PKCE; the endpoints and keys come from the issuer's discovery
// document, the ID token is verified (signature against the issuer's JWKS, issuer, audience,
// expiry), and the userinfo endpoint fills in claims the ID token leaves out.
import {
  ArcticFetchError,
  CodeChallengeMethod,
  OAuth2Client,
  OAuth2RequestError,
  type OAuth2Tokens,
  UnexpectedErrorResponseBodyError,
  UnexpectedResponseError,
} from 'arctic';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import type { OAuthProvider } from '../../../shared/schemas/identity.ts';
import type { Config } from '../../config.ts';

/** Who the user is at the provider, as the provider vouches for it. */
export type ProviderProfile = {
  provider: OAuthProvider;
  providerAccountId: string;
  email: string | null;
  /** True only when the provider says it verified the address. */
  emailVerified: boolean;
  name: string | null;
  username: string | null;
  avatarUrl: string | null;
};

export type ProviderClient = {
  name: OAuthProvider;
  /** Whether the flow carries a PKCE verifier (kept in a cookie between start and callback). */
  usesPkce: boolean;
  authorizationUrl(state: string, codeVerifier: string): Promise<URL>;
  /** Exchanges the code and asks who the user is. Throws ProviderError when the provider refuses. */
  profile(code: string, codeVerifier: string): Promise<ProviderProfile>;
};

/** The provider refused or failed: a bad, used or expired code, a wrong verifier, a bad token. */
export class ProviderError extends Error {
  override name = 'ProviderError';
}

const REQUEST_TIMEOUT_MS = 10_000;

export const callbackUrl = (config: Config, provider: OAuthProvider) =>
  `${config.publicUrl.replace(/\/+$/, '')}/auth/oauth/${provider}/callback`;

/** The configured providers, in display order. */
export function providerClients(config: Config): Map<OAuthProvider, ProviderClient> {
  const clients = new Map<OAuthProvider, ProviderClient>();
  if (config.oauth.github) clients.set('github', githubClient(config, config.oauth.github));
  if (config.oauth.google) clients.set('google', googleClient(config, config.oauth.google));
  return clients;
}

/** arctic's errors (and ours) → ProviderError; anything else is a defect and propagates. */
async function exchange(run: () => Promise<OAuth2Tokens>): Promise<OAuth2Tokens> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof OAuth2RequestError) {
      throw new ProviderError(`token request refused: ${error.code}`, { cause: error });
    }
    if (
      error instanceof ArcticFetchError ||
      error instanceof UnexpectedResponseError ||
      error instanceof UnexpectedErrorResponseBodyError
    ) {
      throw new ProviderError(`token request failed: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

async function getJson<T>(url: string, accessToken: string, headers: Record<string, string> = {}) {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json', ...headers },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new ProviderError(`GET ${url} failed`, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new ProviderError(`GET ${url} answered ${response.status}`);
  }
  return (await response.json()) as T;
}

const httpsOrNull = (url: unknown) =>
  typeof url === 'string' && url.startsWith('https://') && url.length <= 2000 ? url : null;
const stringOrNull = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : null);

type GitHubUser = { id: number; login: string; name: string | null; avatar_url?: string };
type GitHubEmail = { email: string; primary: boolean; verified: boolean };

function githubClient(config: Config, github: NonNullable<Config['oauth']['github']>): ProviderClient {
  const client = new OAuth2Client(github.clientId, github.clientSecret, callbackUrl(config, 'github'));
  // GitHub's REST API wants these on every call.
  const apiHeaders = {
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28',
    'user-agent': 'Forgeline',
  };
  return {
    name: 'github',
    usesPkce: false,
    async authorizationUrl(state) {
      return client.createAuthorizationURL(`${github.oauthBase}/login/oauth/authorize`, state, [
        'read:user',
        'user:email',
      ]);
    },
    async profile(code) {
      const tokens = await exchange(() =>
        client.validateAuthorizationCode(`${github.oauthBase}/login/oauth/access_token`, code, null),
      );
      // GitHub answers a bad or used code with 200 and an error body (arctic's own GitHub class
      // checks this too; the generic client, following the RFC, does not).
      const data = tokens.data as { error?: unknown; error_description?: unknown; access_token?: unknown };
      if (typeof data.error === 'string') {
        throw new ProviderError(`token request refused: ${data.error}`);
      }
      if (typeof data.access_token !== 'string') throw new ProviderError('no access token in the answer');
      const accessToken = data.access_token;
      const [user, emails] = await Promise.all([
        getJson<GitHubUser>(`${github.apiBase}/user`, accessToken, apiHeaders),
        getJson<GitHubEmail[]>(`${github.apiBase}/user/emails`, accessToken, apiHeaders),
      ]);
      if (typeof user?.id !== 'number') throw new ProviderError('GitHub returned no user id');
      // The primary address when verified, else any verified one, else the primary as unverified.
      const list = Array.isArray(emails) ? emails : [];
      const chosen =
        list.find((e) => e.primary && e.verified) ??
        list.find((e) => e.verified) ??
        list.find((e) => e.primary) ??
        null;
      return {
        provider: 'github',
        providerAccountId: String(user.id),
        email: stringOrNull(chosen?.email)?.toLowerCase() ?? null,
        emailVerified: chosen?.verified === true,
        name: stringOrNull(user.name),
        username: stringOrNull(user.login),
        avatarUrl: httpsOrNull(user.avatar_url),
      };
    },
  };
}

type Discovery = {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
};

/** The issuer's discovery document and key set, fetched once per process (retried after a failure). */
const discoveries = new Map<string, Promise<Discovery & { jwks: ReturnType<typeof createRemoteJWKSet> }>>();

function discover(issuer: string) {
  let found = discoveries.get(issuer);
  if (!found) {
    found = (async () => {
      const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      let response: Response;
      try {
        response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      } catch (error) {
        throw new ProviderError(`discovery at ${url} failed`, { cause: error });
      }
      if (!response.ok) throw new ProviderError(`discovery at ${url} answered ${response.status}`);
      const document = (await response.json()) as Discovery;
      if (document.issuer !== issuer) {
        throw new ProviderError(`discovery names issuer ${document.issuer}, expected ${issuer}`);
      }
      return { ...document, jwks: createRemoteJWKSet(new URL(document.jwks_uri)) };
    })();
    discoveries.set(issuer, found);
    found.catch(() => discoveries.delete(issuer));
  }
  return found;
}

type OidcClaims = JWTPayload & {
  email?: unknown;
  email_verified?: unknown;
  name?: unknown;
  picture?: unknown;
};

function googleClient(config: Config, google: NonNullable<Config['oauth']['google']>): ProviderClient {
  const client = new OAuth2Client(google.clientId, google.clientSecret, callbackUrl(config, 'google'));
  // Google's ID tokens name their issuer with or without the scheme.
  const issuers =
    google.issuer === 'https://accounts.google.com'
      ? [google.issuer, 'accounts.google.com']
      : [google.issuer];
  return {
    name: 'google',
    usesPkce: true,
    async authorizationUrl(state, codeVerifier) {
      const { authorization_endpoint } = await discover(google.issuer);
      return client.createAuthorizationURLWithPKCE(
        authorization_endpoint,
        state,
        CodeChallengeMethod.S256,
        codeVerifier,
        ['openid', 'email', 'profile'],
      );
    },
    async profile(code, codeVerifier) {
      const provider = await discover(google.issuer);
      const tokens = await exchange(() =>
        client.validateAuthorizationCode(provider.token_endpoint, code, codeVerifier),
      );
      let claims: OidcClaims;
      try {
        ({ payload: claims } = await jwtVerify<OidcClaims>(tokens.idToken(), provider.jwks, {
          issuer: issuers,
          audience: google.clientId,
        }));
      } catch (error) {
        throw new ProviderError('the ID token did not verify', { cause: error });
      }
      const subject = claims.sub;
      if (!subject) throw new ProviderError('the ID token has no subject');
      // Providers may keep profile claims out of the ID token of a code flow; userinfo has them.
      if (claims.email === undefined && provider.userinfo_endpoint) {
        const info = await getJson<OidcClaims>(provider.userinfo_endpoint, tokens.accessToken());
        if (info.sub !== subject) throw new ProviderError('userinfo names another subject');
        claims = { ...info, ...claims, email: info.email, email_verified: info.email_verified };
      }
      return {
        provider: 'google',
        providerAccountId: subject,
        email: stringOrNull(claims.email)?.toLowerCase() ?? null,
        // Google has sent this as the string "true" in the past.
        emailVerified: claims.email_verified === true || claims.email_verified === 'true',
        name: stringOrNull(claims.name),
        username: null,
        avatarUrl: httpsOrNull(claims.picture),
      };
    },
  };
}
