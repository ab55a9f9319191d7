// Organizations: a name and a unique slug. Who belongs, and as what, is in memberships.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty, idProperty, updatedAtProperty } from '../../common/entity-properties.ts';

export const Organization = defineEntity({
  name: 'Organization',
  tableName: 'organizations',
  properties: {
    id: idProperty(),
    name: p.string().length(120),
    slug: p.string().length(64).unique('organizations_slug_unique'),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  checks: [{ name: 'organizations_slug_check', expression: "slug ~ '^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$'" }],
});
export type Organization = InferEntity<typeof Organization>;
