// A small deterministic random source: the same seed always gives the same sequence, so a
// generation can be re-rendered byte for byte from its id.
import { createHash } from 'node:crypto';

export type Random = {
  /** A float in [0, 1). */
  next(): number;
  int(min: number, maxInclusive: number): number;
  pick<T>(items: readonly T[]): T;
};

export function seededRandom(seed: string): Random {
  const digest = createHash('sha256').update(seed).digest();
  // mulberry32 seeded from the first four bytes of the digest
  let state = digest.readUInt32LE(0);
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, maxInclusive) => min + Math.floor(next() * (maxInclusive - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
  };
}
