// A project end to end with the worker running: generate (the local provider writes the code),
// the project becomes ready, deploy builds the static bundle into storage, and the deployment URL
// serves the page through the real HTTP app.
import { beforeAll, describe, expect, it } from 'vitest';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import { Generation } from '../../server/modules/generations/generation.entity.ts';
import { runDeployment } from '../../server/modules/projects/project-deploy.ts';
import { StorageObject } from '../../server/modules/storage/storage-object.entity.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { createUser } from '../support/factories.ts';
import { setupTestServer } from '../support/http.ts';
import { waitFor } from '../support/wait.ts';

const db = setupTestDatabase();
const server = setupTestServer(db);
beforeAll(() => db.runtime.startWorkers({ concurrency: 2, pollIntervalMs: 100 }));

describe('generate and deploy', () => {
  it('goes draft → generating → ready → deploying → deployed, and the URL serves the bundle', async () => {
    const user = await createUser(db);
    const caller = callerFor(db, user);
    const project = await caller.projects.create({
      name: 'Launchpad <beta>',
      template: 'saas',
      description: 'Rockets as a service',
    });
    await caller.projects.generate({ projectId: project.id, agentType: 'backend' });
    const ready = await waitFor(
      async () => {
        const p = await caller.projects.get({ projectId: project.id });
        return p.status === 'ready' ? p : null;
      },
      { what: 'the project to be ready' },
    );
    expect(ready.generatedPath).toMatch(new RegExp(`^projects/${project.id}/generations/`));
    expect(ready.generations[0]).toMatchObject({
      status: 'succeeded',
      agentType: 'backend',
      tokensUsed: expect.any(Number),
    });

    await caller.projects.generate({ projectId: project.id, agentType: 'frontend' });
    await waitFor(async () => (await caller.projects.get({ projectId: project.id })).status === 'ready', {
      what: 'ready again',
    });

    const deployment = await caller.projects.deploy({ projectId: project.id });
    expect(deployment.status).toBe('queued');
    const deployed = await waitFor(
      async () => {
        const p = await caller.projects.get({ projectId: project.id });
        return p.status === 'deployed' ? p : null;
      },
      { what: 'the deployment' },
    );
    expect(deployed.deployments[0]).toMatchObject({
      id: deployment.id,
      status: 'deployed',
      url: deployed.deploymentUrl,
    });
    const log = deployed.deployments[0]?.log ?? '';
    expect(log).toMatch(/backend\.txt \(\d+ bytes\)/);
    expect(log).toMatch(/frontend\.txt \(\d+ bytes\)/);
    expect(log).toMatch(/published 3 files$/);
    expect(deployed.deployedAt).toBeInstanceOf(Date);

    // The URL works without a session (a signed link), served from our origin without scripts.
    const url = new URL(deployed.deploymentUrl as string);
    const page = await fetch(`${server.baseUrl}${url.pathname}${url.search}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/sandbox/);
    const html = await page.text();
    expect(html).toContain('<h1>Launchpad &lt;beta&gt;</h1>');
    expect(html).toContain('<li>billing</li>');
    expect(html).toMatch(
      /<h2>backend<\/h2>[\s\S]*<h2>frontend<\/h2>|<h2>frontend<\/h2>[\s\S]*<h2>backend<\/h2>/,
    );

    // Deploying again from deployed is allowed and publishes a new URL.
    await caller.projects.deploy({ projectId: project.id });
    const again = await waitFor(
      async () => {
        const p = await caller.projects.get({ projectId: project.id });
        return p.status === 'deployed' && p.deployments.length === 2 ? p : null;
      },
      { what: 'the second deployment' },
    );
    expect(again.deploymentUrl).not.toBe(deployed.deploymentUrl);

    // The job run once more (a queue retry) changes nothing.
    const em = () => db.orm.em.fork();
    const files = await em().count(StorageObject, { user: user.id, deletedAt: null });
    await runDeployment(
      { orm: db.orm, storage: db.runtime.storage, publicUrl: db.config.publicUrl, logger: db.logger },
      deployment.id,
    );
    expect(await em().count(StorageObject, { user: user.id, deletedAt: null })).toBe(files);
    expect((await caller.projects.get({ projectId: project.id })).deployments[1]).toEqual(
      deployed.deployments[0],
    );

    // Removing the project takes its sites offline; its generations stay in the ledger, unlinked.
    const generations = ready.generations.map((g) => g.id);
    await caller.projects.remove({ projectId: project.id });
    for (const link of [deployed.deploymentUrl, again.deploymentUrl]) {
      const gone = new URL(link as string);
      expect((await fetch(`${server.baseUrl}${gone.pathname}${gone.search}`)).status).toBe(404);
    }
    expect(await em().count(StorageObject, { user: user.id, deletedAt: null })).toBe(0);
    const kept = await em().find(Generation, { id: generations });
    expect(kept.map((g) => g.project)).toEqual([null]);
    expect(await em().count(CreditTransaction, { generation: generations, type: 'usage' })).toBe(1);
  });
});
