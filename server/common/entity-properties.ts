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
