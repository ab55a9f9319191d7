// What generations asked through an API key hold or spend per UTC day: the counter an API key's
// daily budget (api_keys.max_credits_per_day) is checked against, inside generations.create's one
// statement (an upsert whose conditional update re-checks the latest count under its row lock, so
// parallel requests through one key can never pass the budget together). A release gives its
// credits back to the day the hold was placed. Owned by the credits module (it counts holds).
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { updatedAtProperty } from '../../common/entity-properties.ts';
import { ApiKey } from '../identity/api-key.entity.ts';

export const ApiKeyDailySpend = defineEntity({
  name: 'ApiKeyDailySpend',
  tableName: 'api_key_daily_spend',
  properties: {
    apiKey: () => p.manyToOne(ApiKey).primary().deleteRule('cascade'),
    /** The UTC day. */
    day: p.date().primary(),
    /** Credits held or captured that day through the key (released holds given back). */
    credits: p.integer().default(0),
    updatedAt: updatedAtProperty(),
  },
  checks: [{ name: 'api_key_daily_spend_credits_check', expression: 'credits >= 0' }],
});
export type ApiKeyDailySpend = InferEntity<typeof ApiKeyDailySpend>;
