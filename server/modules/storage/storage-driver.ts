// Where file bytes live: `local` keeps them under $DATA_DIR/storage, `s3` in an S3 bucket (AWS or any
// S3-compatible server). Both take a stream and never hold a whole file in memory (see README,
// "Files").
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { StorageProvider } from '../../../shared/schemas/storage.ts';
import type { Config } from '../../config.ts';

export type PutOptions = { contentType: string };
export type DownloadOptions = { name: string; contentType: string; expiresInSeconds: number };

export interface StorageDriver {
  readonly provider: StorageProvider;
  /** Writes `body` under `key`. A stream is written as it arrives; a failed write leaves nothing. */
  put(key: string, body: Buffer | Readable, options: PutOptions): Promise<void>;
  /** The bytes; rejects when the key does not exist. */
  read(key: string): Promise<Readable>;
  /** Removes the key; removing a missing key is not an error. */
  remove(key: string): Promise<void>;
  /**
   * A short-lived URL that downloads the object straight from the store, as an attachment; null when
   * the store has no such URLs (local).
   */
  downloadUrl(key: string, options: DownloadOptions): Promise<string | null>;
}

/** The driver STORAGE_DRIVER names. */
export function createStorage(config: Config, localRoot: string): StorageDriver {
  return config.storage.driver === 's3' && config.storage.s3
    ? createS3Storage(config.storage.s3)
    : createLocalStorage(localRoot);
}

export function createLocalStorage(root: string): StorageDriver {
  const base = resolve(root);
  const pathOf = (key: string) => {
    const path = resolve(join(base, key));
    if (!path.startsWith(base + sep)) throw new Error(`Storage key escapes the storage root: ${key}`);
    return path;
  };
  return {
    provider: 'local',
    async put(key, body) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      // Written beside, then renamed: a reader never sees half a file, a failed write leaves none.
      const partial = `${path}.${randomBytes(6).toString('hex')}.partial`;
      try {
        await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(partial));
        await rename(partial, path);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
    },
    async read(key) {
      const path = pathOf(key);
      await stat(path);
      return createReadStream(path);
    },
    async remove(key) {
      await rm(pathOf(key), { force: true });
    },
    async downloadUrl() {
      return null;
    },
  };
}

export type S3StorageOptions = {
  bucket: string;
  region: string;
  /** An S3-compatible server's URL; unset = AWS. */
  endpoint?: string;
  /** Unset = the SDK's default credential chain (AWS_* variables, instance or task role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (most S3-compatible servers). */
  forcePathStyle: boolean;
};

/** Stream bodies go up in parts of this size, one at a time: memory per upload stays at one part. */
const PART_BYTES = 5 * 1024 * 1024;

export function createS3Storage(options: S3StorageOptions): StorageDriver {
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    // The SDK's default adds CRC32 trailers (aws-chunked bodies) that many S3-compatible servers
    // refuse; we keep our own SHA-256 of every file, so checksums only where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = options.bucket;
  return {
    provider: 's3',
    async put(key, body, { contentType }) {
      if (Buffer.isBuffer(body)) {
        await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: contentType }));
        return;
      }
      // Length unknown up front (a streamed upload): one PUT when it fits in a part, otherwise a
      // multipart upload, aborted on failure so no part is left behind.
      await new Upload({
        client,
        params: { Bucket, Key: key, Body: body, ContentType: contentType },
        partSize: PART_BYTES,
        queueSize: 1,
        leavePartsOnError: false,
      }).done();
    },
    async read(key) {
      const object = await client.send(new GetObjectCommand({ Bucket, Key: key }));
      if (!(object.Body instanceof Readable)) throw new Error(`S3 returned no body for ${key}`);
      return object.Body;
    },
    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
    downloadUrl(key, { name, contentType, expiresInSeconds }) {
      return getSignedUrl(
        client,
        new GetObjectCommand({
          Bucket,
          Key: key,
          ResponseContentType: contentType,
          ResponseContentDisposition: contentDisposition('attachment', name),
          ResponseCacheControl: 'private, no-store',
        }),
        { expiresIn: expiresInSeconds },
      );
    },
  };
}

/** `attachment; filename*=UTF-8''…` (RFC 6266), the same for our responses and presigned ones. */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${kind}; filename*=UTF-8''${encoded}`;
}
