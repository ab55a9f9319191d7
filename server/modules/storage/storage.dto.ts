// Plain objects the storage procedures return.
import type { StorageObject } from './storage-object.entity.ts';

export const toStorageObjectDto = (row: StorageObject) => ({
  id: row.id,
  name: row.name,
  contentType: row.contentType,
  size: row.size,
  url: row.url,
  deletedAt: row.deletedAt ?? null,
  createdAt: row.createdAt as Date,
});
export type StorageObjectDto = ReturnType<typeof toStorageObjectDto>;
