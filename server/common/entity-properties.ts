// The base properties every table shares: a UUID primary key, created_at and updated_at.
import { p } from '@mikro-orm/core';
import { uuidv7 } from './ids.ts';

export const idProperty = () =>
  p
    .uuid()
    .primary()
    .onCreate(() => uuidv7());
export const createdAtProperty = () =>
  p
    .datetime()
    .columnType('timestamptz')
    .onCreate(() => new Date());
export const updatedAtProperty = () =>
  p
    .datetime()
    .columnType('timestamptz')
    .onCreate(() => new Date())
    .onUpdate(() => new Date());
export const timestampColumn = () => p.datetime().columnType('timestamptz');

/**
 * Indexes over nullable columns that leave NULLs out (`where column is not null`): each serves every
 * lookup by a value — including PostgreSQL's ON DELETE SET NULL and the foreign-key checks — while a
 * row without the value costs no index entry. `names` maps each index name to its column.
 */
export const partialIndexes = (table: string, names: Record<string, string>) =>
  Object.entries(names).map(([name, column]) => ({
    name,
    expression: `create index "${name}" on "${table}" ("${column}") where "${column}" is not null`,
  }));
