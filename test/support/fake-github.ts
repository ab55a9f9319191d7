// A loopback server speaking GitHub's OAuth web flow (GET /login/oauth/authorize, POST
// /login/oauth/access_token) and the REST endpoints we call (GET /user, GET /user/emails), so the
// app can be pointed at it with GITHUB_OAUTH_BASE and GITHUB_API_BASE. Like GitHub: the authorize
// page redirects back at once for an app the user already authorized; codes are single use and
// expire; a bad code answers 200 with `{ error: "bad_verification_code" }`; the API wants a bearer
// token and a User-Agent.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeGitHubUser = {
  id: number;
  login: string;
  name: string | null;
  avatarUrl?: string;
  emails: { email: string; primary: boolean; verified: boolean }[];
};

export type FakeGitHub = {
  url: string;
  clientId: string;
  clientSecret: string;
  /** The GitHub user signed in at "github.com" in the browser: the next authorize approves as them (null: the user cancels). */
  signIn(user: FakeGitHubUser | null): void;
  /** The app's callback URL as registered on the OAuth app; redirect_uri must match it. */
  setCallbackUrl(url: string): void;
  /** Token requests received (to prove a refused callback never reached the token endpoint). */
  tokenRequests: number;
  close(): Promise<void>;
};

export const githubUser = (overrides: Partial<FakeGitHubUser> = {}): FakeGitHubUser => {
  const id = 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
  return {
    id,
    login: `octo-${id}`,
    name: 'Octo Cat',
    avatarUrl: `https://avatars.example.test/u/${id}`,
    emails: [{ email: `octo-${id}@example.test`, primary: true, verified: true }],
    ...overrides,
  };
};

async function readBody(req: IncomingMessage) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const clientId = `Iv1.${randomBytes(8).toString('hex')}`;
  const clientSecret = randomBytes(20).toString('hex');
  let current: FakeGitHubUser | null = null;
  let callbackUrl: string | null = null;
  const codes = new Map<string, { user: FakeGitHubUser; redirectUri: string | null; expiresAt: number }>();
  const tokens = new Map<string, FakeGitHubUser>();

  const fake: FakeGitHub = {
    url: '',
    clientId,
    clientSecret,
    signIn: (user) => {
      current = user;
    },
    setCallbackUrl: (url) => {
      callbackUrl = url;
    },
    tokenRequests: 0,
    close: async () => {},
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', fake.url);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };

    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const redirectUri = url.searchParams.get('redirect_uri');
      if (url.searchParams.get('client_id') !== clientId) return json(404, { error: 'unknown client' });
      if (!callbackUrl || (redirectUri && redirectUri !== callbackUrl)) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        return res.end('The redirect_uri MUST match the registered callback URL for this application.');
      }
      const back = new URL(redirectUri ?? callbackUrl);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      if (!current) {
        back.searchParams.set('error', 'access_denied');
      } else {
        const code = randomBytes(10).toString('hex');
        codes.set(code, { user: current, redirectUri, expiresAt: Date.now() + 10 * 60_000 });
        back.searchParams.set('code', code);
      }
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }

    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      fake.tokenRequests++;
      const body = new URLSearchParams(await readBody(req));
      let id = body.get('client_id');
      let secret = body.get('client_secret');
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      if (basic?.[1]) {
        const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        id = decodeURIComponent(decoded.slice(0, colon));
        secret = decodeURIComponent(decoded.slice(colon + 1));
      }
      if (id !== clientId || secret !== clientSecret) {
        return json(200, {
          error: 'incorrect_client_credentials',
          error_description: 'The client_id and/or client_secret passed are incorrect.',
        });
      }
      const code = body.get('code') ?? '';
      const grant = codes.get(code);
      codes.delete(code); // single use, whatever happens
      const redirectUri = body.get('redirect_uri');
      if (
        !grant ||
        grant.expiresAt < Date.now() ||
        (grant.redirectUri && redirectUri !== grant.redirectUri)
      ) {
        return json(200, {
          error: 'bad_verification_code',
          error_description: 'The code passed is incorrect or expired.',
        });
      }
      const token = `gho_${randomBytes(18).toString('hex')}`;
      tokens.set(token, grant.user);
      // GitHub answers JSON when asked with Accept: application/json (arctic does).
      if (!(req.headers.accept ?? '').includes('application/json')) {
        res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
        return res.end(
          new URLSearchParams({
            access_token: token,
            token_type: 'bearer',
            scope: 'read:user,user:email',
          }).toString(),
        );
      }
      return json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }

    if (req.method === 'GET' && (url.pathname === '/user' || url.pathname === '/user/emails')) {
      if (!req.headers['user-agent'])
        return json(403, { message: 'Request forbidden by administrative rules.' });
      const token = /^(?:Bearer|token) (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const user = tokens.get(token);
      if (!user) return json(401, { message: 'Bad credentials', status: '401' });
      if (url.pathname === '/user') {
        const primary = user.emails.find((e) => e.primary);
        return json(200, {
          id: user.id,
          login: user.login,
          name: user.name,
          avatar_url: user.avatarUrl,
          email: primary?.verified ? primary.email : null,
          type: 'User',
        });
      }
      return json(
        200,
        user.emails.map((e) => ({ ...e, visibility: e.primary ? 'private' : null })),
      );
    }

    json(404, { message: 'Not Found' });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    });
  return fake;
}
