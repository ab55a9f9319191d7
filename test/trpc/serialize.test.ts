// serializeOutput (server/trpc/serialize.ts) writes superjson's result for flat objects itself:
// it must give exactly superjson's output, and leave everything else to superjson.
import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { flatSerialize, serializeOutput } from '../../server/trpc/serialize.ts';

const date = new Date('2026-12-03T10:11:12.345Z');
const flat: Record<string, unknown>[] = [
  {},
  { balance: 12, totalUsed: 0, lastTransactionAt: date },
  { balance: 12, lastTransactionAt: null },
  { id: 'a', status: 'queued', creditsCharged: 1, createdAt: date, finishedAt: null, ok: true },
  { negative: -3.5, big: Number.MAX_SAFE_INTEGER, empty: '', text: 'ü "quoted" \\ \n' },
  { '': date, 'with space': new Date(date) },
  Object.assign(Object.create(null), { a: date, b: 1 }),
  { id: 'g', images: [], input: { appName: 'Bench', colors: ['#fff', null, 1.5], nested: { deep: [true] } } },
  { list: [{ a: 1 }, { a: 2 }], createdAt: date, 'a.b': { c: 1 } },
];
const other: unknown[] = [
  undefined,
  null,
  1,
  'text',
  date,
  [1, date],
  { nested: { at: date } },
  { list: [date] },
  { list: [1, undefined] },
  // biome-ignore lint/suspicious/noSparseArray: a hole, as superjson sees it.
  { sparse: [1, , 2] },
  { nested: { n: Number.NaN } },
  { nested: { z: -0 } },
  { nested: { set: new Set() } },
  (() => {
    const shared = { a: 1 };
    return { first: shared, second: shared };
  })(),
  (() => {
    const shared = [1];
    return { outer: { inner: shared }, again: shared };
  })(),
  { missing: undefined },
  { nan: Number.NaN },
  { infinite: Number.POSITIVE_INFINITY },
  { negativeZero: -0 },
  { big: 10n },
  { invalid: new Date(Number.NaN) },
  { 'a.b': date },
  { first: date, second: date },
  { 'a\\b': date },
  { set: new Set([1]) },
  { map: new Map([[1, 2]]) },
  { error: new Error('x') },
  { regexp: /x/ },
  { [Symbol('s')]: 1, a: 1 },
  new (class Dto {
    a = 1;
  })(),
];

describe('serializeOutput', () => {
  it('writes exactly what superjson writes for flat objects', () => {
    for (const value of flat) {
      expect(flatSerialize(value)).toBeDefined();
      expect(JSON.stringify(serializeOutput(value))).toBe(JSON.stringify(superjson.serialize(value)));
    }
  });

  it('leaves every other shape to superjson, with the same result', () => {
    for (const value of other) {
      expect(flatSerialize(value)).toBeUndefined();
      expect(JSON.stringify(serializeOutput(value), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))).toBe(
        JSON.stringify(superjson.serialize(value), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)),
      );
    }
  });

  it('round-trips through superjson.deserialize', () => {
    for (const value of flat) {
      expect(superjson.deserialize(JSON.parse(JSON.stringify(serializeOutput(value))))).toEqual(value);
    }
  });

  it('leaves prototype-polluting keys to superjson, which refuses them', () => {
    const polluted = JSON.parse('{"__proto__": 1}') as unknown;
    expect(flatSerialize(polluted)).toBeUndefined();
    expect(() => serializeOutput({ constructor: 1 })).toThrow(/prototype pollution/);
    for (const nested of [JSON.parse('{"__proto__": 1}'), { constructor: 1 }, { prototype: 1 }]) {
      expect(flatSerialize({ nested })).toBeUndefined();
      expect(() => serializeOutput({ nested })).toThrow(/prototype pollution/);
    }
  });
});
