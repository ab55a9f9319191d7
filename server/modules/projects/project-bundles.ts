// Where a project's deployment bundles live in storage (files of the project's creator named
// `projects/<project id>/<deployment id>/…`), and taking them offline — what other modules ask of
// projects instead of reaching into storage with a copy of the naming rule.
// Still to move (issue 17, item 2): projects.service.ts has its own copy of bundlePrefix and its own
// storage update in removeProject; both move here once the create-path work on projects has landed.
import type { EntityManager } from '@mikro-orm/postgresql';
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
  const projects = await em.execute<{ id: string; user_id: string }[]>(
    'select id, user_id from projects where organization_id = ?',
    [where.organizationId],
  );
  for (const project of projects) await removeFilesByPrefix(em, project.user_id, bundlePrefix(project.id));
}
