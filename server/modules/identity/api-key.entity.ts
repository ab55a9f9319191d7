// API keys: the secret is shown once; only its SHA-256 hash and a short prefix (to recognise it)
// are stored. Scopes limit what a bearer of the key may call.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty, idProperty, timestampColumn } from '../../common/entity-properties.ts';
import { Organization } from '../orgs/organization.entity.ts';
import { User } from './user.entity.ts';

export const ApiKey = defineEntity({
  name: 'ApiKey',
  tableName: 'api_keys',
  properties: {
    id: idProperty(),
    user: () => p.manyToOne(User).deleteRule('cascade').index('api_keys_user_id_idx'),
    /** The organization the key acts for, if any. */
    organization: () =>
      p.manyToOne(Organization).nullable().deleteRule('cascade').index('api_keys_organization_id_idx'),
    name: p.string().length(80),
    prefix: p.string().length(16),
    hash: p.string().length(64).unique('api_keys_hash_unique'),
    scopes: p.array().columnType('text[]'),
    lastUsedAt: timestampColumn().nullable(),
    expiresAt: timestampColumn().nullable(),
    /** The daily credit budget of generations asked through the key (UTC days); null = none. */
    maxCreditsPerDay: p.integer().nullable(),
    revokedAt: timestampColumn().nullable(),
    createdAt: createdAtProperty(),
  },
  checks: [{ name: 'api_keys_max_credits_per_day_check', expression: 'max_credits_per_day > 0' }],
});
export type ApiKey = InferEntity<typeof ApiKey>;
