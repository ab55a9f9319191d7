// Projects without a worker running: templates, access (own, organization members, outsiders),
// the status machine's refusals, generate charging and — when the generation fails — one refund
// and the project in error, insufficient credits changing nothing, and one deployment at a time.
import { describe, expect, it } from 'vitest';
import { CreditTransaction } from '../../server/modules/credits/credit-transaction.entity.ts';
import { Generation } from '../../server/modules/generations/generation.entity.ts';
import { failRun } from '../../server/modules/generations/generations.service.ts';
import { Membership } from '../../server/modules/orgs/membership.entity.ts';
import { Deployment } from '../../server/modules/projects/deployment.entity.ts';
import { Project } from '../../server/modules/projects/project.entity.ts';
import { DEFAULT_FEATURE_COSTS } from '../../shared/defaults.ts';
import { TEMPLATE_DEFAULTS } from '../../shared/schemas/projects.ts';
import { callerFor } from '../support/callers.ts';
import { setupTestDatabase } from '../support/database.ts';
import { failureOf } from '../support/errors.ts';
import { createUser, type TestUser } from '../support/factories.ts';

const db = setupTestDatabase();
const em = () => db.orm.em.fork();
const as = (user: TestUser) => callerFor(db, user);
const codeOf = async (call: Promise<unknown>) => (await failureOf(call)).code;
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

  it('charges a code generation, and refunds it once and marks the project in error when it fails', async () => {
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
    expect((await as(user).credits.balance()).balance).toBe(20 - CODE_COST);
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
    expect((await as(user).credits.balance()).balance).toBe(20);
    expect(await em().count(CreditTransaction, { generation: started.generation.id, type: 'refund' })).toBe(
      1,
    );
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
});
