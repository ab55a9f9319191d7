// Where a project's deployment bundles live in storage (files of the project's creator named
// `projects/<project id>/<deployment id>/…`), and taking them offline — what other modules ask of
// projects instead of reaching into storage with a copy of the naming rule.
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql.ts';
import { removeFilesByPrefix } from '../storage/storage.service.ts';

/** Storage names of a project's bundle files start with this. */
export const bundlePrefix = (projectId: string) => `projects/${projectId}/`;

/**
 * Takes every published bundle of an organization's projects offline (their files are
 * soft-deleted, so signed links stop working), as deleting a project does for its own.
 */
export async function takeBundlesOffline(
  em: EntityManager,
  where: { organizationId: string },
): Promise<void> {
  const projects = await sql<{ id: string; user_id: string }>(
    em,
    'select id, user_id from projects where organization_id = $1',
    [where.organizationId],
  );
  for (const project of projects) await removeFilesByPrefix(em, project.user_id, bundlePrefix(project.id));
}

/** Takes one project's published bundles offline (removing the project does this). */
export async function takeProjectBundlesOffline(
  em: EntityManager,
  project: { userId: string; projectId: string },
): Promise<void> {
  await removeFilesByPrefix(em, project.userId, bundlePrefix(project.projectId));
}
