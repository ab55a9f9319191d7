// Admin settings are read on every generation and changed a few times a year: each process keeps
// them in memory while it listens, and a change made by any process reaches every other one.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { createOrm } from '../../server/db/orm.ts';
import { getSettings, watchSettings } from '../../server/modules/settings/settings.service.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser } from '../support/factories.ts';
import { createTestLogger } from '../support/logger.ts';
import { waitFor } from '../support/wait.ts';

const db = setupTestDatabase();
// "Another process": its own ORM and its own listener on the same database.
let other: MikroORM;
let otherWatch: { close(): Promise<void> };

beforeAll(async () => {
  const logger = createTestLogger();
  other = await createOrm(db.url, loadConfig({ NODE_ENV: 'test' }), logger);
  otherWatch = await watchSettings({ orm: other, url: db.url, logger });
});
afterAll(async () => {
  await otherWatch.close();
  await other.close(true);
});

async function statementsDuring(run: () => Promise<unknown>) {
  let count = 0;
  const listener = () => {
    count++;
  };
  subscribe('forgeline:statement', listener);
  try {
    await run();
  } finally {
    unsubscribe('forgeline:statement', listener);
  }
  return count;
}

describe('the admin settings cache', () => {
  it('reads the settings once, then serves them from memory', async () => {
    await getSettings(other.em.fork());
    expect(await statementsDuring(() => getSettings(other.em.fork()))).toBe(0);
  });

  it('drops its copy in every process when an admin changes the settings', async () => {
    const admin = await createUser(db, { role: 'admin' });
    const before = (await getSettings(other.em.fork())).featureCosts.logo_generation;
    const changed = before + 4;
    await callerFor(db, admin).admin.settings.update({ featureCosts: { logo_generation: changed } });
    // This process at once (on commit)…
    expect((await getSettings(db.orm.em.fork())).featureCosts.logo_generation).toBe(changed);
    // …and the other one when the notification reaches it.
    await waitFor(async () => (await getSettings(other.em.fork())).featureCosts.logo_generation === changed, {
      what: 'the other process to hear of the change',
    });
    await callerFor(db, admin).admin.settings.update({ featureCosts: { logo_generation: before } });
  });

  it('charges the new cost right after the change', async () => {
    const admin = await createUser(db, { role: 'admin' });
    const user = await createUser(db, { credits: 50 });
    const logo = { appName: 'Acme', appFocus: 'rockets', color1: '#112233', color2: '#445566' };
    await callerFor(db, user).generations.create({ kind: 'logo', input: logo });
    await callerFor(db, admin).admin.settings.update({ featureCosts: { logo_generation: 7 } });
    const created = await callerFor(db, user).generations.create({ kind: 'logo', input: logo });
    expect(created.creditsCharged).toBe(7);
    await callerFor(db, admin).admin.settings.update({ featureCosts: { logo_generation: 1 } });
  });
});
