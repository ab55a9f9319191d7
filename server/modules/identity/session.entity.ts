// Lucia sessions. The primary key is the SHA-256 hash of the session id: the id itself lives only
// in the user's cookie, so a leaked database or backup holds no usable session.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty, timestampColumn } from '../../common/entity-properties.ts';
import { User } from './user.entity.ts';

export const Session = defineEntity({
  name: 'Session',
  tableName: 'sessions',
  properties: {
    id: p.string().length(64).primary(),
    user: () => p.manyToOne(User).deleteRule('cascade').index('sessions_user_id_idx'),
    expiresAt: timestampColumn().index('sessions_expires_at_idx'),
    ip: p.string().length(64).nullable(),
    userAgent: p.string().length(512).nullable(),
    createdAt: createdAtProperty(),
  },
});
export type Session = InferEntity<typeof Session>;
