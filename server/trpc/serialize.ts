// superjson's serialize for the shape most procedures return — one flat plain object of strings,
// finite numbers, booleans, nulls and valid Dates — written directly: superjson walks every value
// through its list of custom types (Error, RegExp, Set, Map, class instances …) and builds a path
// tree, ~3 % of a balance read's CPU (bench profile, README Performance). Anything else — nesting,
// arrays, undefined, NaN, -0, bigint, keys that superjson escapes, one Date under two keys — goes to
// superjson itself. The output is byte-for-byte superjson's (test/trpc/serialize.test.ts compares).
import superjson, { type SuperJSONResult } from 'superjson';

export function serializeOutput(value: unknown): SuperJSONResult {
  return flatSerialize(value) ?? superjson.serialize(value);
}

/** superjson's result for a flat plain object, or undefined when the value is not one. */
export function flatSerialize(value: unknown): SuperJSONResult | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  const source = value as Record<string, unknown>;
  let json: Record<string, unknown> | undefined;
  let dates: Record<string, ['Date']> | undefined;
  let seen: Date[] | undefined;
  for (const key in source) {
    // superjson refuses these (prototype pollution) and escapes the others in its meta paths.
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return undefined;
    if (!Object.hasOwn(source, key)) return undefined;
    const item = source[key];
    switch (typeof item) {
      case 'string':
      case 'boolean':
        break;
      case 'number':
        if (!Number.isFinite(item) || Object.is(item, -0)) return undefined;
        break;
      case 'object':
        if (item === null) break;
        if (!(item instanceof Date) || Number.isNaN(item.getTime())) return undefined;
        // One Date under two keys: superjson records the identity (referentialEqualities).
        if (seen?.includes(item)) return undefined;
        seen ??= [];
        seen.push(item);
        if (key.includes('.') || key.includes('\\')) return undefined;
        json ??= { ...source };
        json[key] = item.toISOString();
        dates ??= {};
        dates[key] = ['Date'];
        break;
      default:
        return undefined;
    }
  }
  // Symbol keys are dropped by superjson's walk too, but a symbol-keyed value is unusual enough to
  // leave to it.
  if (Object.getOwnPropertySymbols(source).length) return undefined;
  if (!dates) return { json: { ...source } as never };
  return { json: json as never, meta: { values: dates, v: 1 } as never };
}
