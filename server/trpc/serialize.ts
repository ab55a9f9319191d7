// superjson's serialize for the shape most procedures return — one plain object of strings, finite
// numbers, booleans, nulls, valid Dates and plain JSON objects and arrays — written directly: superjson walks every value
// through its list of custom types (Error, RegExp, Set, Map, class instances …) and builds a path
// tree, ~3 % of a balance read's CPU (bench profile, README Performance). Anything else — a nested
// Date, undefined, NaN, -0, bigint, keys that superjson escapes, one object twice — goes to
// superjson itself. The output is byte-for-byte superjson's (test/trpc/serialize.test.ts compares).
import superjson, { type SuperJSONResult } from 'superjson';

export function serializeOutput(value: unknown): SuperJSONResult {
  return flatSerialize(value) ?? superjson.serialize(value);
}

/**
 * superjson's result for a plain object whose values are JSON values or (at its top level) valid
 * Dates, or undefined when the value is not one.
 */
export function flatSerialize(value: unknown): SuperJSONResult | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  const source = value as Record<string, unknown>;
  let json: Record<string, unknown> | undefined;
  let dates: Record<string, ['Date']> | undefined;
  // Every object met: one met twice is recorded by superjson (referentialEqualities).
  const seen = new Set<object>();
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
        if (!(item instanceof Date)) {
          if (!isJsonValue(item, seen)) return undefined;
          break;
        }
        if (Number.isNaN(item.getTime()) || seen.has(item)) return undefined;
        seen.add(item);
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

/**
 * True for a JSON value superjson leaves as it is (no annotation): strings, booleans, finite numbers
 * other than -0, null, and arrays and plain objects of those, no object twice.
 */
function isJsonValue(value: unknown, seen: Set<object>): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (seen.has(value)) return false;
      seen.add(value);
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) {
          if (!(index in value) || !isJsonValue(value[index], seen)) return false;
        }
        return true;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false;
      if (Object.getOwnPropertySymbols(value).length) return false;
      for (const key in value) {
        if (key === '__proto__' || key === 'constructor' || key === 'prototype') return false;
        if (!Object.hasOwn(value, key)) return false;
        if (!isJsonValue((value as Record<string, unknown>)[key], seen)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
