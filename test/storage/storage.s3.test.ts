// The storage suite on the S3 driver, against a loopback S3-compatible server (test/support/fake-s3.ts),
// and what only S3 has: requests signed with the configured keys, refused with any other.
import { describe, expect, it } from 'vitest';
import { createS3Storage } from '../../server/modules/storage/storage-driver.ts';
import { describeStorage } from './storage-suite.ts';

const db = describeStorage('s3');

describe('the S3 driver', () => {
  it('signs every request with the configured keys (the server refuses another secret)', async () => {
    const s3 = db.s3 as NonNullable<typeof db.s3>;
    const wrong = createS3Storage({
      bucket: s3.bucket,
      region: 'eu-west-3',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    await expect(wrong.put('intruder/file', Buffer.from('x'), { contentType: 'text/plain' })).rejects.toThrow(
      /signature/i,
    );
    expect(s3.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/intruder/file'))).toEqual([
      expect.objectContaining({ status: 403 }),
    ]);
  });
});
