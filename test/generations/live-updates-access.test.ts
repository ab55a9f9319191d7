// A live-updates stream (generations.onUpdate over SSE) lives only as long as the access it was
// opened with. Two API processes share one database, as behind a load balancer: each stream is
// opened on process B while the session or key is ended through process A (or by the clock), and
// must close on B — with UNAUTHORIZED, and nothing more delivered after it.
import { describe, expect, it } from 'vitest';
import { MailOutbox } from '../../server/modules/mail/mail-outbox.entity.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser, type TestUser } from '../support/factories.ts';
import { CookieJar, httpClient, setupPeerServer, setupTestServer, type TestServer } from '../support/http.ts';
import { type EventStream, openEventStream, type SseEvent } from '../support/sse.ts';

const db = setupTestDatabase();
const processA = setupTestServer(db);
// B never re-checks on its own within a test: what ends its streams is the announcement (NOTIFY).
const processB = setupPeerServer(db, { accessRecheckMs: 3_600_000 });
// C re-checks often, which is how expiry (announced by nobody) ends streams; a short period keeps
// these tests quick, and they still wait for the event, never for a time.
const processC = setupPeerServer(db, { accessRecheckMs: 500 });
const em = () => db.orm.em.fork();

type Account = TestUser & { generationId: string };

/** A user with one generation (no worker runs here: it stays queued) to poke streams with. */
async function account(): Promise<Account> {
  const user = await createUser(db, { credits: 20 });
  const created = await callerFor(db, user).generations.create({ kind: 'text', input: { prompt: 'ping' } });
  return { ...user, generationId: created.id };
}

/** Signs in on process A over HTTP: a fresh session, kept in its own cookie jar. */
async function signIn(user: TestUser) {
  const jar = new CookieJar();
  const { client } = httpClient(processA, { jar });
  await client.auth.signIn.mutate({ email: user.email, password: user.password });
  return { client, jar };
}

async function apiKey(user: TestUser, expiresAt?: Date) {
  const { client } = await signIn(user);
  return client.apiKeys.create.mutate({ name: 'live', scopes: ['read'], expiresAt });
}

/** Makes the user's generation "change" (a real NOTIFY on the generation-updates channel). */
const poke = (user: Account) =>
  em().execute('select pg_notify(?, ?)', [
    'forgeline_generation_updates',
    JSON.stringify({ userId: user.id, id: user.generationId, status: 'queued' }),
  ]);

const isUpdate = (event: SseEvent, user: Account) =>
  event.event === 'message' && event.data.includes(user.generationId);

/** Opens onUpdate on process B (or C) and proves it live: a poke arrives as an update. */
async function liveStream(
  user: Account,
  headers: Record<string, string>,
  on: TestServer = processB,
): Promise<EventStream> {
  const stream = await openEventStream(`${on.baseUrl}/trpc/generations.onUpdate`, headers);
  expect(stream.status).toBe(200);
  await stream.next((event) => event.event === 'connected', 'connected');
  await poke(user);
  await stream.next((event) => isUpdate(event, user), 'the first update');
  return stream;
}

const withCookies = (jar: CookieJar) => ({ cookie: jar.header() });
const withKey = (secret: string) => ({ authorization: `Bearer ${secret}` });

/** Waits for the server to end the stream; it must end with UNAUTHORIZED and deliver nothing after. */
async function expectEnded(stream: EventStream) {
  const events = await stream.ended();
  const last = events.at(-1);
  expect(last?.event).toBe('serialized-error');
  expect(JSON.parse(last?.data ?? '{}')).toMatchObject({ json: { data: { code: 'UNAUTHORIZED' } } });
}

/** A stream that must survive: a poke sent after the ending committed still arrives on it. */
async function expectStillLive(stream: EventStream, user: Account) {
  const before = stream.events.filter((event) => isUpdate(event, user)).length;
  await poke(user);
  await stream.next(
    (event) => stream.events.filter((e) => isUpdate(e, user)).indexOf(event) >= before,
    'an update after the other credential ended',
  );
  stream.close();
}

describe('live updates end with the session they were opened with', () => {
  it('revokeOthers closes the other sessions’ streams on another process, and keeps the caller’s', async () => {
    const user = await account();
    const first = await signIn(user);
    const second = await signIn(user);
    const revoked = await liveStream(user, withCookies(first.jar));
    const kept = await liveStream(user, withCookies(second.jar));
    await expect(second.client.auth.sessions.revokeOthers.mutate()).resolves.toEqual({ revoked: 1 });
    await expectEnded(revoked);
    await expectStillLive(kept, user);
  });

  it('sign-out', async () => {
    const user = await account();
    const session = await signIn(user);
    const stream = await liveStream(user, withCookies(session.jar));
    await session.client.auth.signOut.mutate();
    await expectEnded(stream);
  });

  it('sessions.revoke of that one session', async () => {
    const user = await account();
    const victim = await signIn(user);
    const other = await signIn(user);
    const stream = await liveStream(user, withCookies(victim.jar));
    const kept = await liveStream(user, withCookies(other.jar));
    const sessions = await other.client.auth.sessions.list.query();
    const handle = sessions.find((session) => !session.current)?.id as string;
    await other.client.auth.sessions.revoke.mutate({ id: handle });
    await expectEnded(stream);
    await expectStillLive(kept, user);
  });

  it('a password change ends every session’s stream (the caller gets a new session)', async () => {
    const user = await account();
    const other = await signIn(user);
    const changer = await signIn(user);
    const streams = [
      await liveStream(user, withCookies(other.jar)),
      await liveStream(user, withCookies(changer.jar)),
    ];
    await changer.client.auth.changePassword.mutate({
      currentPassword: user.password,
      newPassword: 'a brand new password',
    });
    for (const stream of streams) await expectEnded(stream);
    // The new session opens a stream that works.
    const renewed = await liveStream(user, withCookies(changer.jar));
    renewed.close();
  });

  it('a password reset', async () => {
    const user = await account();
    const session = await signIn(user);
    const stream = await liveStream(user, withCookies(session.jar));
    const { client } = httpClient(processA);
    await client.auth.requestPasswordReset.mutate({ email: user.email });
    const [mail] = await em().find(
      MailOutbox,
      { to: user.email },
      { orderBy: { createdAt: 'desc' }, limit: 1 },
    );
    const token = /token=([A-Za-z0-9_-]+)/.exec(mail?.body ?? '')?.[1] as string;
    await client.auth.resetPassword.mutate({ token, password: 'a reset long password' });
    await expectEnded(stream);
  });

  it('deactivating one’s own account ends its sessions’ and its API keys’ streams', async () => {
    const user = await account();
    const session = await signIn(user);
    const key = await apiKey(user);
    const streams = [
      await liveStream(user, withCookies(session.jar)),
      await liveStream(user, withKey(key.secret)),
    ];
    await session.client.account.deactivate.mutate({ password: user.password });
    for (const stream of streams) await expectEnded(stream);
  });

  for (const action of ['ban', 'deactivate', 'delete'] as const) {
    it(`an administrator’s ${action} ends the user’s session and API-key streams`, async () => {
      const user = await account();
      const session = await signIn(user);
      const key = await apiKey(user);
      const streams = [
        await liveStream(user, withCookies(session.jar)),
        await liveStream(user, withKey(key.secret)),
      ];
      const admin = await signIn(await createUser(db, { role: 'admin' }));
      if (action === 'ban') await admin.client.admin.users.ban.mutate({ userId: user.id, reason: 'abuse' });
      if (action === 'deactivate') await admin.client.admin.users.deactivate.mutate({ userId: user.id });
      if (action === 'delete') await admin.client.admin.users.delete.mutate({ userId: user.id });
      for (const stream of streams) await expectEnded(stream);
    });
  }

  it('expiry: a session past its expiry loses its stream within seconds', async () => {
    const user = await account();
    const session = await signIn(user);
    const other = await signIn(user);
    const stream = await liveStream(user, withCookies(session.jar), processC);
    const kept = await liveStream(user, withCookies(other.jar), processC);
    const sessions = await other.client.auth.sessions.list.query();
    const handle = sessions.find((entry) => !entry.current)?.id as string;
    await em().execute("update sessions set expires_at = now() - interval '1 second' where id = ?", [handle]);
    await expectEnded(stream);
    await expectStillLive(kept, user);
  });
});

describe('live updates end with the API key they were opened with', () => {
  it('revoking the key closes its stream on another process; another key’s stream stays', async () => {
    const user = await account();
    const revoked = await apiKey(user);
    const kept = await apiKey(user);
    const streams = [
      await liveStream(user, withKey(revoked.secret)),
      await liveStream(user, withKey(kept.secret)),
    ];
    const owner = await signIn(user);
    await owner.client.apiKeys.revoke.mutate({ id: revoked.id });
    await expectEnded(streams[0] as EventStream);
    await expectStillLive(streams[1] as EventStream, user);
  });

  it('an expired key loses its stream within seconds', async () => {
    const user = await account();
    const key = await apiKey(user, new Date(Date.now() + 3_600_000));
    const stream = await liveStream(user, withKey(key.secret), processC);
    await em().execute("update api_keys set expires_at = now() - interval '1 second' where id = ?", [key.id]);
    await expectEnded(stream);
  });
});
