// Files: storing bytes through the driver with their StorageObject row, listing, soft delete and
// restore, signed expiring links, and the purge of soft-deleted files.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { pipeline, type Readable, Transform } from 'node:stream';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type { listStorageInput } from '../../../shared/schemas/storage.ts';
import { AppError } from '../../common/app-error.ts';
import { uuidv7 } from '../../common/ids.ts';
import { decodeCursor, newestFirstAfter, toPage } from '../../common/pagination.ts';
import { sql } from '../../db/sql.ts';
import { getSigningSecret } from '../settings/settings.service.ts';
import { toStorageObjectDto } from './storage.dto.ts';
import type { StorageDriver } from './storage-driver.ts';
import { StorageObject } from './storage-object.entity.ts';

export type NewFile = {
  userId: string;
  name: string;
  contentType: string;
  /** A stream (an upload) is hashed and counted as it passes to the driver, never held whole. */
  body: Buffer | Readable;
  /** Refuses a stream longer than this (FileTooLargeError); nothing is stored then. */
  maxBytes?: number;
};

/** A streamed file passed its size limit (HTTP 413 at POST /uploads). */
export class FileTooLargeError extends AppError {
  constructor(maxBytes: number) {
    super('bad_request', `The file is larger than ${Math.floor(maxBytes / (1024 * 1024))} MiB`);
  }
}

/** Writes the bytes, then registers the row in `em` (flushed with the caller's unit of work). */
export async function storeFile(
  em: EntityManager,
  driver: StorageDriver,
  file: NewFile,
): Promise<StorageObject> {
  const id = uuidv7();
  const key = `${file.userId}/${id}`;
  const hash = createHash('sha256');
  let size = 0;
  if (Buffer.isBuffer(file.body)) {
    if (file.maxBytes !== undefined && file.body.length > file.maxBytes)
      throw new FileTooLargeError(file.maxBytes);
    hash.update(file.body);
    size = file.body.length;
    await driver.put(key, file.body, { contentType: file.contentType });
  } else {
    const maxBytes = file.maxBytes ?? Number.POSITIVE_INFINITY;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new FileTooLargeError(maxBytes));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    // The source's errors (a client that hangs up) reach the driver through the meter.
    const metered = pipeline(file.body, meter, () => {});
    try {
      await driver.put(key, metered, { contentType: file.contentType });
    } catch (error) {
      throw meter.errored instanceof FileTooLargeError ? meter.errored : error;
    }
  }
  return em.create(StorageObject, {
    id,
    user: file.userId,
    provider: driver.provider,
    key,
    url: `/files/${id}`,
    name: file.name.slice(0, 255),
    contentType: file.contentType,
    size,
    sha256: hash.digest('hex'),
  });
}

/** Removes bytes written for rows that were never committed (a lost race, a rolled-back unit of work). */
export async function discardFiles(driver: StorageDriver, keys: string[]): Promise<void> {
  await Promise.all(keys.map((key) => driver.remove(key)));
}

const ownedBy = async (em: EntityManager, userId: string, id: string) => {
  const row = await em.findOne(StorageObject, { id, user: userId });
  if (!row) throw new AppError('not_found', 'No such file');
  return row;
};

export async function listFiles(em: EntityManager, userId: string, input: z.output<typeof listStorageInput>) {
  const cursor = decodeCursor(input.cursor);
  const rows = await em.find(
    StorageObject,
    {
      user: userId,
      deletedAt: input.deleted ? { $ne: null } : null,
      ...newestFirstAfter(cursor),
    },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit: input.limit + 1 },
  );
  return toPage(rows, input.limit, toStorageObjectDto);
}

export async function getFile(em: EntityManager, userId: string, id: string) {
  const row = await ownedBy(em, userId, id);
  return { ...toStorageObjectDto(row), downloadUrl: await signedUrl(em, row.id, 15 * 60) };
}

export async function removeFile(em: EntityManager, userId: string, id: string) {
  const row = await ownedBy(em, userId, id);
  row.deletedAt ??= new Date();
  return toStorageObjectDto(row);
}

export async function restoreFile(em: EntityManager, userId: string, id: string) {
  const row = await ownedBy(em, userId, id);
  row.deletedAt = null;
  return toStorageObjectDto(row);
}

/**
 * Soft-deletes the live files of `userId` whose names start with `prefix` (matched with LIKE: a
 * literal prefix, no `%` or `_`): signed links to them stop working, and the retention job purges
 * them after the grace period. For modules that keep files under a name prefix (projects' bundles).
 */
export async function removeFilesByPrefix(em: EntityManager, userId: string, prefix: string): Promise<void> {
  await sql(
    em,
    `update storage_objects set deleted_at = now(), updated_at = now()
      where user_id = $1 and name like $2 and deleted_at is null`,
    [userId, `${prefix}%`],
  );
}

/** The file for GET /files/:id: its owner, or anyone holding a valid signed link. */
export async function findServableFile(
  em: EntityManager,
  id: string,
  access: { userId: string | null; exp?: string; sig?: string },
): Promise<StorageObject | null> {
  const row = await em.findOne(StorageObject, { id, deletedAt: null });
  if (!row) return null;
  if (access.userId && row.user.id === access.userId) return row;
  if (access.exp && access.sig && (await verifySignature(em, id, access.exp, access.sig))) return row;
  return null;
}

async function signature(em: EntityManager, id: string, exp: string): Promise<string> {
  return createHmac('sha256', await getSigningSecret(em))
    .update(`${id}.${exp}`)
    .digest('base64url');
}

/** A link that opens the file without a session until it expires (for <img> tags, downloads, sharing). */
export async function signedUrl(em: EntityManager, id: string, ttlSeconds: number): Promise<string> {
  const exp = String(Math.floor(Date.now() / 1000) + ttlSeconds);
  return `/files/${id}?exp=${exp}&sig=${await signature(em, id, exp)}`;
}

async function verifySignature(em: EntityManager, id: string, exp: string, sig: string): Promise<boolean> {
  if (!/^\d{1,12}$/.test(exp) || Number(exp) < Date.now() / 1000) return false;
  const expected = Buffer.from(await signature(em, id, exp));
  const given = Buffer.from(sig);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Purges files soft-deleted before `olderThan`, in bounded batches; returns how many went. */
export async function purgeDeletedFiles(
  em: EntityManager,
  driver: StorageDriver,
  olderThan: Date,
  batchSize = 500,
): Promise<number> {
  let purged = 0;
  for (;;) {
    const rows = await em.fork().transactional(async (tx) => {
      const batch = await sql<{ id: string; key: string }>(
        tx,
        `delete from storage_objects where id in (
           select id from storage_objects where deleted_at < $1 order by deleted_at limit $2 for update skip locked)
         returning id, key`,
        [olderThan, batchSize],
      );
      return batch;
    });
    await discardFiles(
      driver,
      rows.map((row) => row.key),
    );
    purged += rows.length;
    if (rows.length < batchSize) return purged;
  }
}
