// A sign-in provider's account (GitHub, Google) linked to a user. One provider account belongs to
// one user, and a user links at most one account per provider.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { OAUTH_PROVIDERS } from '../../../shared/schemas/identity.ts';
import {
  createdAtProperty,
  idProperty,
  timestampColumn,
  updatedAtProperty,
} from '../../common/entity-properties.ts';
import { User } from './user.entity.ts';

export const OAuthAccount = defineEntity({
  name: 'OAuthAccount',
  tableName: 'oauth_accounts',
  properties: {
    id: idProperty(),
    provider: p.enum(OAUTH_PROVIDERS),
    /** The provider's stable id for the account (GitHub's numeric user id, Google's `sub`). */
    providerAccountId: p.string().length(255),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    /** What the provider last told us, to show in settings: not used to sign in. */
    email: p.string().length(254).nullable(),
    username: p.string().length(255).nullable(),
    lastUsedAt: timestampColumn().nullable(),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  uniques: [
    { name: 'oauth_accounts_provider_account_unique', properties: ['provider', 'providerAccountId'] },
    // Leads with user_id, so it also serves "a user's linked accounts" and the foreign key.
    { name: 'oauth_accounts_user_id_provider_unique', properties: ['user', 'provider'] },
  ],
});
export type OAuthAccount = InferEntity<typeof OAuthAccount>;
