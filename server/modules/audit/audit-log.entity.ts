// The audit trail: who (a user, an API key, or the system) did what to which row, from where.
// Written in the same transaction as the change it records.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { AUDIT_ACTIONS } from '../../../shared/schemas/admin.ts';
import { createdAtProperty, idProperty } from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';

export const AuditLog = defineEntity({
  name: 'AuditLog',
  tableName: 'audit_logs',
  properties: {
    id: idProperty(),
    actor: () => p.manyToOne(User).nullable().deleteRule('set null').index('audit_logs_actor_id_idx'),
    /** Set when the actor used an API key (the API-keys module's id). */
    actorApiKeyId: p.uuid().nullable(),
    action: p.enum(AUDIT_ACTIONS),
    targetType: p.string().length(40),
    targetId: p.string().length(100).nullable(),
    metadata: p.json<Record<string, unknown>>().nullable(),
    ip: p.string().length(64).nullable(),
    createdAt: createdAtProperty(),
  },
  indexes: [
    {
      name: 'audit_logs_created_at_idx',
      expression: 'create index "audit_logs_created_at_idx" on "audit_logs" ("created_at" desc, "id" desc)',
    },
    { name: 'audit_logs_target_idx', properties: ['targetType', 'targetId'] },
    { name: 'audit_logs_action_created_at_idx', properties: ['action', 'createdAt'] },
  ],
});
export type AuditLog = InferEntity<typeof AuditLog>;
