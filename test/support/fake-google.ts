// A real OpenID Connect provider on loopback standing in for Google: `oidc-provider` (OpenID
// certified) with one confidential client registered for the app's callback, PKCE required,
// RS256-signed ID tokens, discovery, JWKS and userinfo. Its login and consent step is a tiny
// interaction handler that signs in as the account the test chose (`signIn`), the way a browser
// already signed in to Google and having consented before goes straight back to the app.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';

/** oidc-provider's storage, in memory for this one test process (its own default warns that it is dev-only). */
function memoryAdapter() {
  const store = new Map<string, AdapterPayload>();
  return class MemoryAdapter implements Adapter {
    readonly #name: string;
    constructor(name: string) {
      this.#name = name;
    }
    #key = (id: string) => `${this.#name}:${id}`;
    async upsert(id: string, payload: AdapterPayload) {
      store.set(this.#key(id), { ...payload });
    }
    async find(id: string) {
      return store.get(this.#key(id));
    }
    async findByUserCode(userCode: string) {
      return [...store.values()].find((p) => p.userCode === userCode);
    }
    async findByUid(uid: string) {
      return [...store.values()].find((p) => p.uid === uid);
    }
    async consume(id: string) {
      const payload = store.get(this.#key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.#key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, payload] of store) if (payload.grantId === grantId) store.delete(key);
    }
  };
}

export type FakeGoogleAccount = {
  sub: string;
  email: string;
  email_verified: boolean;
  name?: string;
  picture?: string;
};

export type FakeGoogle = {
  /** The issuer: GOOGLE_ISSUER. */
  url: string;
  clientId: string;
  clientSecret: string;
  /** The account signed in at the provider in the browser: the next authorization approves as them. */
  signIn(account: FakeGoogleAccount): void;
  /** Registers the client with this redirect URI (the provider starts serving once it is set). */
  register(redirectUri: string): Promise<void>;
  /** Authorization codes redeemed (the provider's own event), to prove a replay was refused. */
  codesConsumed: number;
  close(): Promise<void>;
};

export const googleAccount = (overrides: Partial<FakeGoogleAccount> = {}): FakeGoogleAccount => {
  const sub = String(100_000_000_000 + Math.floor(Math.random() * 1e11));
  return { sub, email: `g-${sub}@example.test`, email_verified: true, name: 'Grace Hopper', ...overrides };
};

/**
 * `idTokenClaims: 'conform'` (oidc-provider's default) keeps email and profile claims out of the ID
 * token of a code flow, so the app must ask userinfo; `'all'` puts them in the ID token, as Google does.
 */
export async function startFakeGoogle(
  options: { idTokenClaims?: 'conform' | 'all' } = {},
): Promise<FakeGoogle> {
  const clientId = `${randomBytes(6).toString('hex')}.apps.example.test`;
  const clientSecret = randomBytes(24).toString('base64url');
  const accounts = new Map<string, FakeGoogleAccount>();
  let current: FakeGoogleAccount | null = null;
  let provider: Provider | null = null;

  const fake: FakeGoogle = {
    url: '',
    clientId,
    clientSecret,
    signIn: (account) => {
      accounts.set(account.sub, account);
      current = account;
    },
    register: async () => {},
    codesConsumed: 0,
    close: async () => {},
  };

  async function interaction(req: IncomingMessage, res: ServerResponse, oidc: Provider) {
    const details = await oidc.interactionDetails(req, res);
    const account = current;
    if (!account) {
      return oidc.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'No one signed in',
      });
    }
    const clientIdOf = String(details.params.client_id);
    const grant = new oidc.Grant({ accountId: account.sub, clientId: clientIdOf });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await oidc.interactionFinished(
      req,
      res,
      { login: { accountId: account.sub }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  const server: Server = createServer((req, res) => {
    if (!provider) {
      res.writeHead(503).end('not registered yet');
      return;
    }
    const oidc = provider;
    if (req.url?.startsWith('/interaction/')) {
      interaction(req, res, oidc).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      });
      return;
    }
    oidc.callback()(req, res);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'fake-google-1', alg: 'RS256', use: 'sig' };

  fake.register = async (redirectUri) => {
    const oidc = new Provider(fake.url, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      adapter: memoryAdapter(),
      jwks: { keys: [signingKey] },
      ttl: {
        AccessToken: 600,
        AuthorizationCode: 60,
        Grant: 3600,
        IdToken: 600,
        Interaction: 600,
        Session: 3600,
      },
      cookies: { keys: [randomBytes(16).toString('hex')] },
      pkce: { required: () => true },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'picture'] },
      conformIdTokenClaims: options.idTokenClaims !== 'all',
      features: { devInteractions: { enabled: false } },
      async findAccount(_ctx, sub) {
        const account = accounts.get(sub);
        if (!account) return undefined;
        return { accountId: sub, claims: async () => ({ ...account }) };
      },
    });
    oidc.on('authorization_code.consumed', () => {
      fake.codesConsumed++;
    });
    provider = oidc;
  };
  fake.close = () =>
    new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    });
  return fake;
}
