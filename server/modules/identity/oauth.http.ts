// GET /auth/oauth/:provider starts a provider sign-in; GET /auth/oauth/:provider/callback finishes
// it. The state (and, for Google, the PKCE verifier) live in short-lived HttpOnly cookies scoped to
// the provider's path, are compared in constant time and cleared whatever the outcome. The callback
// ends in a redirect: to the app (signed in), to settings (linked), or back to the sign-in page or
// settings with `?oauth_error=<reason>` — never a JSON error page in the middle of a sign-in.
import { createHash, timingSafeEqual } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { generateCodeVerifier, generateState } from 'arctic';
import { parse as parseCookies, serialize } from 'cookie';
import express, { type Request, type Response, type Router } from 'express';
import { SESSION_COOKIE } from '../../../shared/errors.ts';
import { OAUTH_PROVIDERS, type OAuthFailure, type OAuthProvider } from '../../../shared/schemas/identity.ts';
import { AppError } from '../../common/app-error.ts';
import type { Deps } from '../../runtime.ts';
import { createRateLimiter } from '../rate-limits/rate-limits.service.ts';
import { createAuth } from './lucia.ts';
import { completeOAuth, type OAuthOutcome } from './oauth.service.ts';
import { type ProviderClient, ProviderError, providerClients } from './oauth-providers.ts';
import { authenticateSession } from './session-auth.ts';

const STATE_COOKIE = 'forgeline_oauth_state';
const VERIFIER_COOKIE = 'forgeline_oauth_verifier';
/** Long enough to sign in at the provider, short enough that a stale flow cannot be finished. */
const FLOW_COOKIE_SECONDS = 10 * 60;

const digest = (value: string) => createHash('sha256').update(value).digest();
/** Equal-length digests, so the comparison takes the same time whatever the inputs. */
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

export function oauthRoutes(deps: Deps): Router {
  const routes = express.Router();
  const clients = providerClients(deps.config);
  const cookieOptions = (provider: OAuthProvider) => ({
    httpOnly: true,
    // Lax: the cookies must come back on the provider's top-level redirect to the callback.
    sameSite: 'lax' as const,
    secure: deps.config.sessionCookieSecure,
    path: `/auth/oauth/${provider}`,
  });
  const clientFor = (req: Request): ProviderClient | undefined => {
    const name = String(req.params.provider);
    return (OAUTH_PROVIDERS as readonly string[]).includes(name)
      ? clients.get(name as OAuthProvider)
      : undefined;
  };

  routes.get('/auth/oauth/:provider', async (req, res, next) => {
    try {
      const client = clientFor(req);
      if (!client) return void res.status(404).json({ error: 'This sign-in provider is not configured' });
      const state = generateState();
      const codeVerifier = generateCodeVerifier();
      const url = await client.authorizationUrl(state, codeVerifier);
      const options = { ...cookieOptions(client.name), maxAge: FLOW_COOKIE_SECONDS };
      res.appendHeader('Set-Cookie', serialize(STATE_COOKIE, state, options));
      if (client.usesPkce) res.appendHeader('Set-Cookie', serialize(VERIFIER_COOKIE, codeVerifier, options));
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, url.toString());
    } catch (error) {
      if (error instanceof ProviderError) {
        // The provider's discovery document could not be read: say so on the sign-in page.
        deps.logger.warn({ err: error, provider: req.params.provider }, 'oauth start failed');
        return void res.redirect(302, failureUrl(String(req.params.provider), 'provider_failed', false));
      }
      next(error);
    }
  });

  routes.get('/auth/oauth/:provider/callback', async (req, res, next) => {
    try {
      const client = clientFor(req);
      if (!client) return void res.status(404).json({ error: 'This sign-in provider is not configured' });
      res.setHeader('Cache-Control', 'no-store');
      // One use: the flow's cookies go, whatever happens next.
      const cleared = { ...cookieOptions(client.name), maxAge: 0 };
      res.appendHeader('Set-Cookie', serialize(STATE_COOKIE, '', cleared));
      res.appendHeader('Set-Cookie', serialize(VERIFIER_COOKIE, '', cleared));

      const cookies = parseCookies(req.get('cookie') ?? '');
      const signedInUserId = await signedInUser(deps, req, res);
      const done = (outcome: OAuthOutcome) => finish(res, client.name, outcome, signedInUserId !== null);

      const query = (name: string) => (typeof req.query[name] === 'string' ? req.query[name] : '');
      const expectedState = cookies[STATE_COOKIE] ?? '';
      if (!query('state') || !expectedState || !sameSecret(query('state'), expectedState)) {
        return done({ ok: false, reason: 'state_mismatch' });
      }
      if (query('error')) {
        return done({
          ok: false,
          reason: query('error') === 'access_denied' ? 'provider_denied' : 'provider_failed',
        });
      }
      const codeVerifier = cookies[VERIFIER_COOKIE] ?? '';
      if (!query('code') || (client.usesPkce && !codeVerifier))
        return done({ ok: false, reason: 'state_mismatch' });

      // A callback is a sign-in attempt: it counts against the same per-address limit.
      try {
        await createRateLimiter(deps.orm.em.fork()).consume('signInPerIp', req.ip);
      } catch (error) {
        if (error instanceof AppError && error.code === 'rate_limited')
          return done({ ok: false, reason: 'rate_limited' });
        throw error;
      }

      let profile: Awaited<ReturnType<ProviderClient['profile']>>;
      try {
        profile = await client.profile(query('code'), codeVerifier);
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        // A replayed or forged code, a wrong PKCE verifier, the provider down: the user retries.
        deps.logger.warn({ err: error, provider: client.name }, 'oauth code exchange refused');
        return done({ ok: false, reason: 'provider_failed' });
      }

      const clientInfo = { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
      const run = () =>
        deps.orm.em.fork().transactional((em) =>
          completeOAuth(em, createAuth(em, { secureCookie: deps.config.sessionCookieSecure }), profile, {
            signedInUserId,
            client: clientInfo,
          }),
        );
      let outcome: OAuthOutcome;
      try {
        outcome = await run();
      } catch (error) {
        // Two first sign-ins of the same provider account at once: one created the account or the
        // link; running again finds it and signs in.
        if (!(error instanceof UniqueConstraintViolationException || isConflict(error))) throw error;
        outcome = await run().catch((again) => {
          if (again instanceof UniqueConstraintViolationException || isConflict(again)) {
            return { ok: false, reason: 'try_again' } as const;
          }
          throw again;
        });
      }
      if (outcome.ok && outcome.sessionId) {
        const auth = createAuth(deps.orm.em, { secureCookie: deps.config.sessionCookieSecure });
        res.appendHeader('Set-Cookie', auth.createSessionCookie(outcome.sessionId).serialize());
      }
      done(outcome);
    } catch (error) {
      next(error);
    }
  });

  return routes;
}

const isConflict = (error: unknown) => error instanceof AppError && error.code === 'conflict';

/** The user of a valid session cookie on this request (they are linking), or null. */
async function signedInUser(deps: Deps, req: Request, res: Response): Promise<string | null> {
  const sessionId = parseCookies(req.get('cookie') ?? '')[SESSION_COOKIE];
  if (!sessionId) return null;
  const identity = await authenticateSession(deps, sessionId, {
    set: (cookie) => res.appendHeader('Set-Cookie', cookie),
  });
  return identity.user?.id ?? null;
}

function failureUrl(provider: string, reason: OAuthFailure, linking: boolean) {
  const params = new URLSearchParams({ oauth_error: reason, provider });
  return `${linking ? '/settings' : '/sign-in'}?${params}`;
}

function finish(res: Response, provider: OAuthProvider, outcome: OAuthOutcome, linking: boolean) {
  if (!outcome.ok) return void res.redirect(302, failureUrl(provider, outcome.reason, linking));
  if (outcome.kind === 'linked') return void res.redirect(302, `/settings?linked=${provider}`);
  res.redirect(302, '/');
}
