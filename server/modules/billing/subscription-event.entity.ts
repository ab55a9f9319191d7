// The history of a user's subscription (seed 003): what happened, to which plan, when.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { SUBSCRIPTION_STATUSES } from '../../../shared/schemas/billing.ts';
import { createdAtProperty, idProperty, timestampColumn } from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';

export const SubscriptionEvent = defineEntity({
  name: 'SubscriptionEvent',
  tableName: 'subscription_events',
  properties: {
    id: idProperty(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    planKey: p.string().length(40).nullable(),
    status: p.enum(SUBSCRIPTION_STATUSES),
    eventType: p.string().length(80),
    occurredAt: timestampColumn(),
    metadata: p.json<Record<string, unknown>>().nullable(),
    createdAt: createdAtProperty(),
  },
  indexes: [{ name: 'subscription_events_user_id_occurred_at_idx', properties: ['user', 'occurredAt'] }],
});
export type SubscriptionEvent = InferEntity<typeof SubscriptionEvent>;
