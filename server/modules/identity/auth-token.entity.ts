// Single-use tokens sent by email (verification, password reset): stored only as SHA-256 hashes.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { AUTH_TOKEN_PURPOSES } from '../../../shared/schemas/identity.ts';
import { createdAtProperty, idProperty, timestampColumn } from '../../common/entity-properties.ts';
import { User } from './user.entity.ts';

export const AuthToken = defineEntity({
  name: 'AuthToken',
  tableName: 'auth_tokens',
  properties: {
    id: idProperty(),
    user: () => p.manyToOne(User).deleteRule('cascade').index('auth_tokens_user_id_idx'),
    purpose: p.enum(AUTH_TOKEN_PURPOSES),
    tokenHash: p.string().length(64).unique('auth_tokens_token_hash_unique'),
    expiresAt: timestampColumn().index('auth_tokens_expires_at_idx'),
    usedAt: timestampColumn().nullable(),
    createdAt: createdAtProperty(),
  },
});
export type AuthToken = InferEntity<typeof AuthToken>;
