// The deployment job: builds a project's bundle (each agent's latest output and an index page) into
// storage and publishes its URL. pg-boss may run it twice; the deployment's claim and its last write
// are conditional on its status, so a duplicate run changes nothing (jobs/attempt.ts).
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../../common/logger.ts';
import { sql } from '../../db/sql.ts';
import { Generation } from '../generations/generation.entity.ts';
import { type JobAttempt, LOST_RACE, retryUnlessLastAttempt, settleAttempt } from '../jobs/attempt.ts';
import { discardFiles, signedUrl, storeFile } from '../storage/storage.service.ts';
import type { StorageDriver } from '../storage/storage-driver.ts';
import { Deployment } from './deployment.entity.ts';
import { Project } from './project.entity.ts';
import { bundlePrefix } from './project-bundles.ts';
import { moveProject } from './project-lifecycle.ts';
import { renderBundleIndex } from './project-page.ts';

export type DeployDeps = { orm: MikroORM; storage: StorageDriver; publicUrl: string; logger: Logger };
export type DeploymentJob = { deploymentId: string };
export type DeployAttempt = JobAttempt;

/** Published links live as long as the project does (removal soft-deletes the files). */
const BUNDLE_LINK_TTL_SECONDS = 10 * 365 * 86_400;

/**
 * The deployment job: builds the bundle into storage and publishes its URL. Throws to ask the queue
 * for a retry while attempts remain; the last attempt fails the deployment and the project. Every
 * write is conditional on the deployment still building, so a duplicate run changes nothing.
 */
export async function runDeployment(
  deps: DeployDeps,
  deploymentId: string,
  attempt: DeployAttempt = { retryCount: 0, retryLimit: 0 },
): Promise<void> {
  const claimed = await sql<{ project_id: string }>(
    deps.orm.em.fork(),
    `update deployments set status = 'building', started_at = coalesce(started_at, now()), updated_at = now()
      where id = $1 and status in ('queued', 'building') returning project_id`,
    [deploymentId],
  );
  const projectId = claimed[0]?.project_id;
  if (!projectId) return; // finished already: a duplicate run has nothing to do
  const stamp = () => new Date().toISOString();
  const log: string[] = [`${stamp()} building (attempt ${attempt.retryCount + 1})`];
  const written: string[] = [];
  try {
    const settled = await settleAttempt(
      deps.orm,
      async (em, lost) => {
        const project = await em.findOneOrFail(Project, projectId);
        const generations = await em.find(
          Generation,
          { project: projectId, status: 'succeeded', kind: 'code', deletedAt: null },
          { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] },
        );
        // The latest output of each agent.
        const latest = new Map<string, Generation>();
        for (const g of generations) if (g.agentType && !latest.has(g.agentType)) latest.set(g.agentType, g);
        const userId = project.user.id;
        const prefix = `${bundlePrefix(projectId)}${deploymentId}/`;
        const store = async (name: string, contentType: string, body: string) => {
          const file = await storeFile(em, deps.storage, {
            userId,
            name: `${prefix}${name}`,
            contentType,
            body: Buffer.from(body),
          });
          written.push(file.key);
          await em.flush();
          return signedUrl(em, file.id, BUNDLE_LINK_TTL_SECONDS);
        };
        const outputs: { agentType: string; code: string; file: string }[] = [];
        for (const [agentType, g] of latest) {
          const code = g.response ?? '';
          const file = await store(`${agentType}.txt`, 'text/plain; charset=utf-8', code);
          outputs.push({ agentType, code, file });
          log.push(`${stamp()} ${agentType}.txt (${Buffer.byteLength(code)} bytes)`);
        }
        const index = renderBundleIndex(
          {
            name: project.name,
            description: project.description ?? null,
            template: project.template,
            features: project.features as string[],
          },
          outputs,
        );
        const url = `${deps.publicUrl.replace(/\/$/, '')}${await store('index.html', 'text/html; charset=utf-8', index)}`;
        log.push(`${stamp()} published ${outputs.length + 1} files`);
        const done = await em.nativeUpdate(
          Deployment,
          { id: deploymentId, status: 'building' },
          { status: 'deployed', url, log: log.join('\n'), finishedAt: new Date() },
        );
        if (done === 0) lost();
        await moveProject(em, projectId, 'deployed', { deployment_url: url, deployed_at: new Date() });
      },
      () => discardFiles(deps.storage, written),
    );
    if (settled === LOST_RACE) return; // another run of this deployment finished it
  } catch (error) {
    retryUnlessLastAttempt(deps.logger, attempt, error, 'deployment', { deploymentId });
    deps.logger.warn({ err: error, deploymentId }, 'deployment failed on its last attempt');
    log.push(`${stamp()} failed: ${(error as Error).message}`);
    await deps.orm.em.fork().transactional((em) => failDeployment(em, deploymentId, log.join('\n')));
  }
}

/** queued|building → failed with `log`, and the project → error. False when it had already finished. */
export async function failDeployment(em: EntityManager, deploymentId: string, log: string): Promise<boolean> {
  const rows = await sql<{ project_id: string }>(
    em,
    `update deployments set status = 'failed', log = $1, finished_at = now(), updated_at = now()
      where id = $2 and status in ('queued', 'building') returning project_id`,
    [log, deploymentId],
  );
  const projectId = rows[0]?.project_id;
  if (!projectId) return false;
  await moveProject(em, projectId, 'error');
  return true;
}
