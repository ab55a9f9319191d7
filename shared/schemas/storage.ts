// Storage: the files users own (uploads and generated outputs).
import { z } from 'zod';

export const STORAGE_PROVIDERS = ['local', 's3'] as const;
export type StorageProvider = (typeof STORAGE_PROVIDERS)[number];

export const UPLOAD_MAX_BYTES = 10 * 1024 * 1024;
export const UPLOAD_CONTENT_TYPES = [
  'image/png',
  'image/jpeg',
  'image/webp',
  'image/gif',
  'image/svg+xml',
  'application/pdf',
  'text/plain',
  'application/json',
  'application/zip',
] as const;

export const listStorageInput = z.object({
  cursor: z.string().max(100).nullish(),
  limit: z.number().int().min(1).max(100).default(24),
  deleted: z.boolean().default(false),
});
export type ListStorageInput = z.input<typeof listStorageInput>;

export const storageIdInput = z.object({ id: z.uuid() });
