// The project status machine, in one place: draft → generating → ready → deploying → deployed,
// and error from generating or deploying. Every move is a conditional update (`… where status in
// (allowed sources)`), so two requests or a duplicate job cannot both move a project, and a move
// that is not allowed from the current status changes nothing. This file imports no other module:
// the generations module calls settleProjectGeneration when a project's generation settles.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ProjectStatus } from '../../../shared/schemas/projects.ts';
import { AppError } from '../../common/app-error.ts';
import { moveStatus } from '../../db/status-move.ts';

/** For each target status, the statuses a project may come from. */
export const PROJECT_MOVES: Record<ProjectStatus, readonly ProjectStatus[]> = {
  draft: [],
  generating: ['draft', 'ready', 'deployed', 'error'],
  ready: ['generating'],
  deploying: ['ready', 'deployed'],
  deployed: ['deploying'],
  error: ['generating', 'deploying'],
};

/** While an agent or a deployment works on the project, it is neither edited nor removed. */
const BUSY: readonly ProjectStatus[] = ['generating', 'deploying'];

/** CONFLICT when the project is busy. Call it on a row read under a lock (see accessProject). */
export function assertNotBusy(project: { status: ProjectStatus }): void {
  if (BUSY.includes(project.status)) {
    throw new AppError('conflict', `The project is ${project.status}: wait until it finishes`);
  }
}

/** Moves the project to `to` if its status allows; true when it moved. */
export async function moveProject(
  em: EntityManager,
  projectId: string,
  to: ProjectStatus,
  fields: Record<string, unknown> = {},
): Promise<boolean> {
  const rows = await moveStatus<{ id: string }>(em, {
    table: 'projects',
    id: projectId,
    from: PROJECT_MOVES[to],
    to,
    fields,
    returning: 'id',
  });
  return rows.length > 0;
}

/** A project's code generation settled: ready (with its generated files' path) or error. */
export async function settleProjectGeneration(
  em: EntityManager,
  projectId: string,
  generationId: string,
  succeeded: boolean,
): Promise<void> {
  await moveProject(
    em,
    projectId,
    succeeded ? 'ready' : 'error',
    succeeded ? { generated_path: `projects/${projectId}/generations/${generationId}` } : {},
  );
}
