// Recording and reading the audit trail. record() only persists into the caller's unit of work:
// the entry commits with the change it describes, or not at all.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditAction } from '../../../shared/schemas/admin.ts';
import { decodeCursor, newestFirstAfter, toPage } from '../../common/pagination.ts';
import { toAuditDto } from './audit.dto.ts';
import { AuditLog } from './audit-log.entity.ts';

/** Who acted: a signed-in user (and their IP), or the system (webhooks, jobs). */
export type Actor = { userId: string | null; apiKeyId?: string | null; ip?: string | null };
export const SYSTEM: Actor = { userId: null };

export function record(
  em: EntityManager,
  actor: Actor,
  action: AuditAction,
  target: { type: string; id?: string | null },
  metadata: Record<string, unknown> | null = null,
) {
  em.create(AuditLog, {
    actor: actor.userId,
    actorApiKeyId: actor.apiKeyId ?? null,
    action,
    targetType: target.type,
    targetId: target.id ?? null,
    metadata,
    ip: actor.ip ?? null,
  });
}

export async function listAudit(
  em: EntityManager,
  input: {
    action?: AuditAction | undefined;
    actorId?: string | undefined;
    targetType?: string | undefined;
    targetId?: string | undefined;
    cursor?: string | null | undefined;
    limit: number;
  },
) {
  const rows = await em.find(
    AuditLog,
    {
      ...(input.action ? { action: input.action } : {}),
      ...(input.actorId ? { actor: input.actorId } : {}),
      ...(input.targetType ? { targetType: input.targetType } : {}),
      ...(input.targetId ? { targetId: input.targetId } : {}),
      ...newestFirstAfter(decodeCursor(input.cursor)),
    },
    { populate: ['actor'], orderBy: { createdAt: 'desc', id: 'desc' }, limit: input.limit + 1 },
  );
  return toPage(rows, input.limit, toAuditDto);
}
