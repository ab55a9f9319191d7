// Counters for rate limits, one row per key and fixed window, kept in PostgreSQL so every API
// process shares them (the API stays stateless). Old windows are deleted by the retention job.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty, timestampColumn } from '../../common/entity-properties.ts';

export const RateLimitWindow = defineEntity({
  name: 'RateLimitWindow',
  tableName: 'rate_limit_windows',
  properties: {
    key: p.string().length(200).primary(),
    windowStart: timestampColumn().primary().index('rate_limit_windows_window_start_idx'),
    count: p.integer(),
    createdAt: createdAtProperty(),
  },
});
export type RateLimitWindow = InferEntity<typeof RateLimitWindow>;
