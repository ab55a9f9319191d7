// UUIDv7 ids: time-ordered, so new rows land at the right edge of their primary-key index.
import { randomFillSync } from 'node:crypto';

// Random bytes drawn in batches (one system call per 256 ids, not one per id).
const BATCH = 16 * 256;
const pool = Buffer.allocUnsafe(BATCH);
let offset = BATCH;

export function uuidv7(now = Date.now()): string {
  if (offset === BATCH) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.allocUnsafe(16);
  pool.copy(bytes, 0, offset, offset + 16);
  offset += 16;
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
