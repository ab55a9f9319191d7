// Workspace features (seed 003): a board of named items with free tags (GIN-indexed for tag filters).
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty, idProperty, updatedAtProperty } from '../../common/entity-properties.ts';
import { Organization } from './organization.entity.ts';

export const Feature = defineEntity({
  name: 'Feature',
  tableName: 'features',
  properties: {
    id: idProperty(),
    organization: () => p.manyToOne(Organization).deleteRule('cascade').index('features_workspace_id_idx'),
    name: p.string().length(120).index('features_name_idx'),
    description: p.text().nullable(),
    tags: p.array().columnType('text[]').defaultRaw("'{}'"),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  indexes: [
    {
      name: 'features_tags_gin_idx',
      expression: 'create index "features_tags_gin_idx" on "features" using gin ("tags")',
    },
  ],
});
export type Feature = InferEntity<typeof Feature>;
