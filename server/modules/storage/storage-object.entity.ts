// Files users own: uploads and generated outputs. Soft-deleted (restorable) until the retention
// job purges them after a grace period.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { STORAGE_PROVIDERS } from '../../../shared/schemas/storage.ts';
import {
  createdAtProperty,
  idProperty,
  timestampColumn,
  updatedAtProperty,
} from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';

export const StorageObject = defineEntity({
  name: 'StorageObject',
  tableName: 'storage_objects',
  properties: {
    id: idProperty(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    provider: p.enum(STORAGE_PROVIDERS),
    key: p.string().length(512).unique('storage_objects_key_unique'),
    url: p.text(),
    name: p.string().length(255),
    contentType: p.string().length(128),
    size: p.integer(),
    sha256: p.string().length(64),
    deletedAt: timestampColumn().nullable().index('storage_objects_deleted_at_idx'),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  indexes: [
    {
      name: 'storage_objects_user_id_created_at_idx',
      expression:
        'create index "storage_objects_user_id_created_at_idx" on "storage_objects" ("user_id", "created_at" desc, "id" desc)',
    },
  ],
  checks: [{ name: 'storage_objects_size_check', expression: 'size >= 0' }],
});
export type StorageObject = InferEntity<typeof StorageObject>;
