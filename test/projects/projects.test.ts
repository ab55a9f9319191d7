// Projects without a worker running: templates, access (own, organization members, outsiders),
// the status machine's refusals, generate holding the price and — when the generation fails — one release
// and the project in error, insufficient credits changing nothing, one generation and one
// deployment at a time, and the deployment job's retries and failure (run here by hand).
import { describe, expect, it } from 'vitest';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import { Generation } from '../../server/modules/generations/generation.entity.ts';
import { failRun } from '../../server/modules/generations/generations.service.ts';
import { Membership } from '../../server/modules/orgs/membership.entity.ts';
import { Deployment } from '../../server/modules/projects/deployment.entity.ts';
import { Project } from '../../server/modules/projects/project.entity.ts';
import { failDeployment, runDeployment } from '../../server/modules/projects/project-deploy.ts';
import type { StorageDriver } from '../../server/modules/storage/storage-driver.ts';
import { StorageObject } from '../../server/modules/storage/storage-object.entity.ts';
import { DEFAULT_FEATURE_COSTS } from '../../shared/defaults.ts';
import { TEMPLATE_DEFAULTS } from '../../shared/schemas/projects.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { codeOf, failureOf } from '../support/errors.ts';
import { createUser, type TestUser } from '../support/factories.ts';

const db = setupTestDatabase();
const em = () => db.orm.em.fork();
const as = (user: TestUser) => callerFor(db, user);
const holdStatusOf = async (generationId: string) =>
  (
    await em().execute<{ status: string }[]>('select status from credit_holds where generation_id = ?', [
      generationId,
    ])
  )[0]?.status;
const CODE_COST = DEFAULT_FEATURE_COSTS.code_generation;

const setStatus = (projectId: string, status: Project['status']) =>
  em().nativeUpdate(Project, { id: projectId }, { status });

describe('projects', () => {
  it('starts from a template as a draft, and lists and updates', async () => {
    const user = await createUser(db);
    const project = await as(user).projects.create({ name: 'Shop', template: 'ecommerce' });
    expect(project).toMatchObject({
      status: 'draft',
      template: 'ecommerce',
      features: TEMPLATE_DEFAULTS.ecommerce.features,
      config: TEMPLATE_DEFAULTS.ecommerce.config,
      organizationId: null,
    });
    const updated = await as(user).projects.update({
      projectId: project.id,
      features: ['Cart', 'cart', 'search'],
      config: { theme: 'dark' },
    });
    expect(updated).toMatchObject({ features: ['cart', 'search'], config: { theme: 'dark' } });
    expect((await as(user).projects.list({})).items.map((p) => p.id)).toContain(project.id);
    expect((await as(user).projects.list({ status: 'deployed' })).items).toEqual([]);
    await expect(as(user).projects.get({ projectId: project.id })).resolves.toMatchObject({
      generations: [],
      deployments: [],
    });

    const bad = await failureOf(as(user).projects.create({ name: '', template: 'spaceship' as never }));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(Object.keys(bad.data.fieldErrors ?? {})).toEqual(expect.arrayContaining(['name', 'template']));
  });

  it("keeps a user's project from others, and shares an organization's with its members", async () => {
    const [owner, other, member, orgOwner] = await Promise.all([
      createUser(db),
      createUser(db),
      createUser(db),
      createUser(db),
    ]);
    const mine = await as(owner).projects.create({ name: 'Mine', template: 'blog' });
    for (const call of [
      () => as(other).projects.get({ projectId: mine.id }),
      () => as(other).projects.update({ projectId: mine.id, name: 'Taken' }),
      () => as(other).projects.generate({ projectId: mine.id, agentType: 'backend' }),
      () => as(other).projects.deploy({ projectId: mine.id }),
      () => as(other).projects.remove({ projectId: mine.id }),
    ]) {
      expect(await codeOf(call())).toBe('NOT_FOUND');
    }

    const org = await as(orgOwner).orgs.create({ name: 'Builders' });
    await em()
      .persist(em().create(Membership, { organization: org.id, user: member.id, role: 'member' }))
      .flush();
    expect(
      await codeOf(as(other).projects.create({ name: 'Sneaky', template: 'api', organizationId: org.id })),
    ).toBe('NOT_FOUND');
    expect(await codeOf(as(other).projects.list({ organizationId: org.id }))).toBe('NOT_FOUND');
    const shared = await as(orgOwner).projects.create({
      name: 'Shared',
      template: 'saas',
      organizationId: org.id,
    });
    await expect(as(member).projects.get({ projectId: shared.id })).resolves.toMatchObject({
      organizationId: org.id,
    });
    await expect(
      as(member).projects.update({ projectId: shared.id, name: 'Shared v2' }),
    ).resolves.toMatchObject({ name: 'Shared v2' });
    expect((await as(member).projects.list({ organizationId: org.id })).items.map((p) => p.id)).toEqual([
      shared.id,
    ]);
    expect(await codeOf(as(member).projects.remove({ projectId: shared.id }))).toBe('FORBIDDEN');
    await expect(as(orgOwner).projects.remove({ projectId: shared.id })).resolves.toEqual({ ok: true });
  });

  it('holds a code generation’s price, releases it once and marks the project in error when it fails', async () => {
    const user = await createUser(db, { credits: 20 });
    const project = await as(user).projects.create({ name: 'Api', template: 'api' });
    const started = await as(user).projects.generate({
      projectId: project.id,
      agentType: 'backend',
      prompt: 'use fastify',
    });
    expect(started).toMatchObject({
      status: 'generating',
      generation: { kind: 'code', agentType: 'backend', creditsCharged: CODE_COST },
    });
    expect((await as(user).credits.balance()).available).toBe(20 - CODE_COST);
    const row = await em().findOneOrFail(Generation, started.generation.id);
    expect(row.prompt).toMatch(
      /backend agent building "Api"[\s\S]*rest, auth, rate-limits[\s\S]*use fastify/,
    );

    // Busy: no second generation, no edits, no deploy, no removal.
    expect(await codeOf(as(user).projects.generate({ projectId: project.id, agentType: 'frontend' }))).toBe(
      'CONFLICT',
    );
    expect(await codeOf(as(user).projects.update({ projectId: project.id, name: 'x' }))).toBe('CONFLICT');
    expect(await codeOf(as(user).projects.deploy({ projectId: project.id }))).toBe('CONFLICT');
    expect(await codeOf(as(user).projects.remove({ projectId: project.id }))).toBe('CONFLICT');

    await em().transactional((tx) => failRun(tx, started.generation.id, 'the agent crashed'));
    await em().transactional((tx) => failRun(tx, started.generation.id, 'a duplicate callback'));
    expect((await as(user).credits.balance()).available).toBe(20);
    expect(await em().count(CreditTransaction, { generation: started.generation.id, type: 'refund' })).toBe(
      0,
    );
    expect(await holdStatusOf(started.generation.id)).toBe('released');
    const detail = await as(user).projects.get({ projectId: project.id });
    expect(detail).toMatchObject({
      status: 'error',
      generations: [{ id: started.generation.id, status: 'failed', agentType: 'backend' }],
    });

    // From error it may be generated again.
    await expect(
      as(user).projects.generate({ projectId: project.id, agentType: 'backend' }),
    ).resolves.toMatchObject({ status: 'generating' });
  });

  it('refuses a generation the user cannot pay for and leaves the project as it was', async () => {
    const user = await createUser(db, { credits: CODE_COST - 1 });
    const project = await as(user).projects.create({ name: 'Broke', template: 'custom' });
    expect(await codeOf(as(user).projects.generate({ projectId: project.id, agentType: 'frontend' }))).toBe(
      'PAYMENT_REQUIRED',
    );
    expect((await em().findOneOrFail(Project, project.id)).status).toBe('draft');
    expect(await em().count(Generation, { project: project.id })).toBe(0);
  });

  it('deploys only a ready project, and two deploys at once make one deployment', async () => {
    const user = await createUser(db);
    const project = await as(user).projects.create({ name: 'Site', template: 'blog' });
    expect(await codeOf(as(user).projects.deploy({ projectId: project.id }))).toBe('CONFLICT');
    await setStatus(project.id, 'ready');
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => as(user).projects.deploy({ projectId: project.id })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code),
    ).toEqual(Array(4).fill('CONFLICT'));
    expect(await em().count(Deployment, { project: project.id })).toBe(1);
    expect((await em().findOneOrFail(Project, project.id)).status).toBe('deploying');
  });

  it('answers bad input with BAD_REQUEST and the fields at fault', async () => {
    const user = await createUser(db);
    const project = await as(user).projects.create({ name: 'Valid', template: 'saas' });
    const cases: [() => Promise<unknown>, string[]][] = [
      [
        () =>
          as(user).projects.update({
            projectId: project.id,
            name: '  ',
            features: Array.from({ length: 51 }, (_, i) => `f${i}`),
          }),
        ['name', 'features'],
      ],
      [
        () => as(user).projects.generate({ projectId: project.id, agentType: 'wizard' as never }),
        ['agentType'],
      ],
      [() => as(user).projects.get({ projectId: 'not-a-uuid' }), ['projectId']],
      [() => as(user).projects.list({ limit: 0, status: 'shipped' as never }), ['limit', 'status']],
      [() => as(user).projects.deploy({} as never), ['projectId']],
    ];
    for (const [call, fields] of cases) {
      const failure = await failureOf(call());
      expect(failure.code).toBe('BAD_REQUEST');
      expect(Object.keys(failure.data.fieldErrors ?? {}).sort()).toEqual([...fields].sort());
    }
    expect(await em().findOneOrFail(Project, project.id)).toMatchObject({ name: 'Valid', status: 'draft' });
  });

  it('pages through the list newest first', async () => {
    const user = await createUser(db);
    const created = [];
    for (const name of ['One', 'Two', 'Three']) {
      created.push(await as(user).projects.create({ name, template: 'custom' }));
    }
    const first = await as(user).projects.list({ limit: 2 });
    expect(first.items.map((p) => p.name)).toEqual(['Three', 'Two']);
    const second = await as(user).projects.list({ limit: 2, cursor: first.nextCursor });
    expect(second).toEqual({ items: [expect.objectContaining({ name: 'One' })], nextCursor: null });
  });

  it("ends a member's access to the organization's projects, even their own, when they leave", async () => {
    const [orgOwner, member, admin] = await Promise.all([createUser(db), createUser(db), createUser(db)]);
    const org = await as(orgOwner).orgs.create({ name: 'Guild' });
    await em()
      .persist([
        em().create(Membership, { organization: org.id, user: member.id, role: 'member' }),
        em().create(Membership, { organization: org.id, user: admin.id, role: 'admin' }),
      ])
      .flush();
    const theirs = await as(member).projects.create({
      name: 'Theirs',
      template: 'api',
      organizationId: org.id,
    });
    const kept = await as(member).projects.create({ name: 'Kept', template: 'api', organizationId: org.id });
    const personal = await as(member).projects.create({ name: 'Personal', template: 'blog' });

    // The creator may remove their organization project with the member role; an admin may remove anyone's.
    await expect(as(member).projects.remove({ projectId: theirs.id })).resolves.toEqual({ ok: true });
    const other = await as(orgOwner).projects.create({
      name: 'Owner’s',
      template: 'saas',
      organizationId: org.id,
    });
    expect(await codeOf(as(member).projects.remove({ projectId: other.id }))).toBe('FORBIDDEN');
    await expect(as(admin).projects.remove({ projectId: other.id })).resolves.toEqual({ ok: true });

    expect((await as(member).projects.list({})).items.map((p) => p.id).sort()).toEqual(
      [kept.id, personal.id].sort(),
    );
    await em().nativeDelete(Membership, { organization: org.id, user: member.id });
    expect(await codeOf(as(member).projects.get({ projectId: kept.id }))).toBe('NOT_FOUND');
    expect(await codeOf(as(member).projects.update({ projectId: kept.id, name: 'Mine now' }))).toBe(
      'NOT_FOUND',
    );
    expect((await as(member).projects.list({})).items.map((p) => p.id)).toEqual([personal.id]);
    await expect(as(orgOwner).projects.get({ projectId: kept.id })).resolves.toMatchObject({ name: 'Kept' });
  });

  it('starts one generation when two generate calls race, and charges once', async () => {
    const user = await createUser(db, { credits: 20 });
    const project = await as(user).projects.create({ name: 'Race', template: 'saas' });
    const results = await Promise.allSettled(
      (['backend', 'frontend', 'database', 'auth'] as const).map((agentType) =>
        as(user).projects.generate({ projectId: project.id, agentType }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code),
    ).toEqual(Array(3).fill('CONFLICT'));
    expect(await em().count(Generation, { project: project.id })).toBe(1);
    expect((await as(user).credits.balance()).available).toBe(20 - CODE_COST);
  });

  it('returns the first generation for a repeated idempotency key and moves the project no further', async () => {
    const user = await createUser(db, { credits: 20 });
    const project = await as(user).projects.create({ name: 'Once', template: 'blog' });
    const key = 'generate-once-0001';
    const first = await as(user).projects.generate({
      projectId: project.id,
      agentType: 'frontend',
      idempotencyKey: key,
    });
    await em().transactional((tx) => failRun(tx, first.generation.id, 'the agent crashed'));
    const again = await as(user).projects.generate({
      projectId: project.id,
      agentType: 'frontend',
      idempotencyKey: key,
    });
    expect(again).toMatchObject({
      status: 'error',
      generation: { id: first.generation.id, status: 'failed' },
    });
    expect((await em().findOneOrFail(Project, project.id)).status).toBe('error');
    expect(await em().count(Generation, { project: project.id })).toBe(1);
    expect((await as(user).credits.balance()).available).toBe(20);

    const elsewhere = await as(user).projects.create({ name: 'Elsewhere', template: 'blog' });
    expect(
      await codeOf(
        as(user).projects.generate({ projectId: elsewhere.id, agentType: 'frontend', idempotencyKey: key }),
      ),
    ).toBe('CONFLICT');
    expect((await em().findOneOrFail(Project, elsewhere.id)).status).toBe('draft');
  });

  it('puts the project in error, its hold released once, when the user cancels its generation', async () => {
    const user = await createUser(db, { credits: 20 });
    const project = await as(user).projects.create({ name: 'Cancel', template: 'api' });
    const { generation } = await as(user).projects.generate({ projectId: project.id, agentType: 'devops' });
    await as(user).generations.cancel({ id: generation.id });
    // Canceling twice is answered, and changes nothing more.
    await expect(as(user).generations.cancel({ id: generation.id })).resolves.toMatchObject({
      status: 'canceled',
    });
    expect((await as(user).projects.get({ projectId: project.id })).status).toBe('error');
    expect((await as(user).credits.balance()).available).toBe(20);
    expect(await em().count(CreditTransaction, { generation: generation.id, type: 'refund' })).toBe(0);
    expect(await holdStatusOf(generation.id)).toBe('released');
  });

  it('shows the latest generation of each agent', async () => {
    const user = await createUser(db, { credits: 50 });
    const project = await as(user).projects.create({ name: 'Agents', template: 'saas' });
    const run = async (agentType: 'backend' | 'frontend') => {
      const { generation } = await as(user).projects.generate({ projectId: project.id, agentType });
      await em().transactional((tx) => failRun(tx, generation.id, 'stopped by the test'));
      return generation.id;
    };
    await run('backend');
    const frontend = await run('frontend');
    const backend = await run('backend');
    const detail = await as(user).projects.get({ projectId: project.id });
    expect(detail.generations.map((g) => g.id)).toEqual([backend, frontend]);
  });

  it('retries a failing build, then fails the deployment and the project on the last attempt', async () => {
    const user = await createUser(db);
    const project = await as(user).projects.create({ name: 'Doomed', template: 'blog' });
    await setStatus(project.id, 'ready');
    const deployment = await as(user).projects.deploy({ projectId: project.id });
    let writes = 0;
    const brokenDisk: StorageDriver = {
      ...db.runtime.storage,
      async put() {
        writes++;
        throw new Error('disk full');
      },
    };
    const deps = { orm: db.orm, storage: brokenDisk, publicUrl: db.config.publicUrl, logger: db.logger };

    await expect(runDeployment(deps, deployment.id, { retryCount: 0, retryLimit: 1 })).rejects.toThrow(
      'disk full',
    );
    expect(await em().findOneOrFail(Deployment, deployment.id)).toMatchObject({ status: 'building' });
    expect((await em().findOneOrFail(Project, project.id)).status).toBe('deploying');

    await runDeployment(deps, deployment.id, { retryCount: 1, retryLimit: 1 });
    const failed = await em().findOneOrFail(Deployment, deployment.id);
    expect(failed).toMatchObject({ status: 'failed', url: null, finishedAt: expect.any(Date) });
    expect(failed.log).toMatch(/building \(attempt 2\)[\s\S]*failed: disk full$/);
    expect(await em().findOneOrFail(Project, project.id)).toMatchObject({
      status: 'error',
      deploymentUrl: null,
    });
    expect(await em().count(StorageObject, { user: user.id })).toBe(0);

    // A duplicate run, or the dead-letter handler, finds nothing left to do.
    await runDeployment(deps, deployment.id, { retryCount: 1, retryLimit: 1 });
    expect(await em().transactional((tx) => failDeployment(tx, deployment.id, 'late'))).toBe(false);
    expect(writes).toBe(2);
    expect((await em().findOneOrFail(Deployment, deployment.id)).log).toMatch(/disk full$/);
  });

  it('fails a deployment whose job died (the dead-letter queue) and puts the project in error', async () => {
    const user = await createUser(db);
    const project = await as(user).projects.create({ name: 'Lost', template: 'api' });
    await setStatus(project.id, 'deployed');
    const deployment = await as(user).projects.deploy({ projectId: project.id });
    expect(
      await em().transactional((tx) => failDeployment(tx, deployment.id, 'The deployment timed out')),
    ).toBe(true);
    const detail = await as(user).projects.get({ projectId: project.id });
    expect(detail).toMatchObject({
      status: 'error',
      deployments: [{ id: deployment.id, status: 'failed', log: 'The deployment timed out' }],
    });
    // From error the project is generated again before it can be deployed.
    expect(await codeOf(as(user).projects.deploy({ projectId: project.id }))).toBe('CONFLICT');
  });

  it("lets an organization's member generate and deploy its project, charged to that member", async () => {
    const [orgOwner, member] = await Promise.all([createUser(db), createUser(db, { credits: 10 })]);
    const org = await as(orgOwner).orgs.create({ name: 'Workshop' });
    await em()
      .persist(em().create(Membership, { organization: org.id, user: member.id, role: 'member' }))
      .flush();
    const project = await as(orgOwner).projects.create({
      name: 'Team app',
      template: 'saas',
      organizationId: org.id,
    });
    const ownerBalance = (await as(orgOwner).credits.balance()).balance;

    const { generation } = await as(member).projects.generate({ projectId: project.id, agentType: 'auth' });
    const row = await em().findOneOrFail(Generation, generation.id);
    expect({ user: row.user?.id, organization: row.organization?.id, project: row.project?.id }).toEqual({
      user: member.id,
      organization: org.id,
      project: project.id,
    });
    expect((await as(member).credits.balance()).available).toBe(10 - CODE_COST);
    expect((await as(orgOwner).credits.balance()).balance).toBe(ownerBalance);

    await setStatus(project.id, 'ready');
    await expect(as(member).projects.deploy({ projectId: project.id })).resolves.toMatchObject({
      status: 'queued',
    });
    expect((await as(orgOwner).projects.get({ projectId: project.id })).status).toBe('deploying');
  });
});
