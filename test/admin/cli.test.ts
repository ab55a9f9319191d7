// `npm run admin`: the admin CLI against the real HTTP app with an admin-scoped API key, in-process
// through `runAdminCli` and once as the real `node server/cli/admin.ts` process.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAdminCli } from '../../server/cli/admin.ts';
import { AuditLog } from '../../server/modules/audit/audit-log.entity.ts';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import { User } from '../../server/modules/identity/user.entity.ts';
import { callerFor, callerForSession, sessionIdFrom } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser, type TestUser } from '../support/factories.ts';
import { setupTestServer } from '../support/http.ts';

const db = setupTestDatabase();
const server = setupTestServer(db);
const em = () => db.orm.em.fork();

async function keyFor(user: TestUser, scopes: ('read' | 'admin')[]) {
  const anonymous = callerFor(db, null);
  await anonymous.auth.signIn({ email: user.email, password: user.password });
  const caller = await callerForSession(db, sessionIdFrom(anonymous.cookies) as string);
  return (await caller.apiKeys.create({ name: 'cli', scopes })).secret;
}

let adminKey: string;
beforeAll(async () => {
  adminKey = await keyFor(await createUser(db, { role: 'admin' }), ['admin']);
});

async function run(argv: string[], key: string | null = adminKey) {
  const lines: string[] = [];
  const code = await runAdminCli(argv, {
    out: (line) => lines.push(line),
    env: { FORGELINE_URL: server.baseUrl, FORGELINE_API_KEY: key ?? undefined },
  });
  return { code, output: lines.join('\n') };
}

describe('admin CLI', () => {
  it('lists users as a table and as JSON', async () => {
    const user = await createUser(db);
    const table = await run(['users', '--search', user.email]);
    expect(table.code).toBe(0);
    expect(table.output).toMatch(/^id\s+email\s+name\s+role\s+status\s+credits/);
    expect(table.output).toContain(user.email);
    expect(table.output).toContain('page 1 · 1 users');

    const json = await run(['users', '--search', user.email, '--json']);
    expect(JSON.parse(json.output)).toMatchObject({ total: 1, items: [{ id: user.id, email: user.email }] });
  });

  it('adjusts credits through the audited admin procedure, and bans and unbans', async () => {
    const user = await createUser(db);
    const adjusted = await run(['adjust', user.id, '25', '--reason', 'support ticket 42']);
    expect(adjusted.code).toBe(0);
    const [latest] = await em().find(
      CreditTransaction,
      { user: user.id },
      { orderBy: { id: 'desc' }, limit: 1 },
    );
    expect(latest).toMatchObject({ type: 'admin_adjustment', amount: 25 });

    expect((await run(['ban', user.id, '--reason', 'abuse'])).code).toBe(0);
    expect((await em().findOneOrFail(User, user.id)).status).toBe('banned');
    expect((await run(['unban', user.id])).code).toBe(0);
    expect((await em().findOneOrFail(User, user.id)).status).toBe('active');

    const detail = await run(['user', user.id, '--json']);
    expect(JSON.parse(detail.output)).toMatchObject({ id: user.id, status: 'active' });
  });

  it('audits what it does under the API key it used', async () => {
    const admin = await createUser(db, { role: 'admin' });
    const anonymous = callerFor(db, null);
    await anonymous.auth.signIn({ email: admin.email, password: admin.password });
    const owner = await callerForSession(db, sessionIdFrom(anonymous.cookies) as string);
    const key = await owner.apiKeys.create({ name: 'ops laptop', scopes: ['admin'] });
    const user = await createUser(db);
    expect((await run(['adjust', user.id, '7', '--reason', 'ticket 7'], key.secret)).code).toBe(0);
    expect((await run(['ban', user.id, '--reason', 'abuse'], key.secret)).code).toBe(0);
    const entries = await em().find(
      AuditLog,
      { targetId: user.id, action: { $in: ['credits.adjusted', 'user.banned'] } },
      { orderBy: { createdAt: 'asc' } },
    );
    expect(entries.map((entry) => [entry.action, entry.actorApiKeyId])).toEqual([
      ['credits.adjusted', key.id],
      ['user.banned', key.id],
    ]);
    expect(entries.every((entry) => (entry.actor as { id: string } | null)?.id === admin.id)).toBe(true);
    // The admin area shows it too; a session-signed action records no key.
    const listed = await owner.admin.audit.list({ targetId: user.id, action: 'user.banned' });
    expect(listed.items[0]?.actorApiKeyId).toBe(key.id);
    await owner.admin.users.unban({ userId: user.id });
    const [unbanned] = await em().find(AuditLog, { targetId: user.id, action: 'user.unbanned' });
    expect(unbanned?.actorApiKeyId).toBeNull();
  });

  it('reports bad input with its field and changes nothing', async () => {
    const user = await createUser(db);
    const before = await em().count(CreditTransaction, { user: user.id });
    const result = await run(['adjust', user.id, '25']);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/^error: BAD_REQUEST: .*\(reason: /);
    expect(await em().count(CreditTransaction, { user: user.id })).toBe(before);
  });

  it('refuses without a key, with a key lacking the admin scope, and on unknown commands', async () => {
    expect((await run(['users'], null)).code).toBe(2);
    const readKey = await keyFor(await createUser(db, { role: 'admin' }), ['read']);
    const refused = await run(['stats'], readKey);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/^error: FORBIDDEN/);
    const unknown = await run(['frobnicate']);
    expect(unknown).toMatchObject({ code: 2, output: expect.stringContaining('usage: npm run admin') });
  });

  it('runs as a process: `node server/cli/admin.ts stats`', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['server/cli/admin.ts', 'stats'], {
      env: { ...process.env, FORGELINE_URL: server.baseUrl, FORGELINE_API_KEY: adminKey },
    });
    expect(stdout).toMatch(/^metric\s+value/);
    expect(stdout).toMatch(/users\s+\d+/);
  });
});
