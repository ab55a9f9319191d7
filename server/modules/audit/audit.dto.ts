// Plain objects the audit log's readers (admin.audit.list) get.
import type { AuditLog } from './audit-log.entity.ts';

export const toAuditDto = (row: AuditLog) => ({
  id: row.id,
  action: row.action,
  actor: row.actor ? { id: row.actor.id, email: row.actor.email, name: row.actor.name } : null,
  actorApiKeyId: row.actorApiKeyId ?? null,
  targetType: row.targetType,
  targetId: row.targetId ?? null,
  metadata: row.metadata ?? null,
  ip: row.ip ?? null,
  createdAt: row.createdAt as Date,
});
export type AuditDto = ReturnType<typeof toAuditDto>;
