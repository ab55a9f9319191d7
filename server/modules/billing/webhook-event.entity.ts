// Every payment webhook, stored before it is applied: the dedup key (provider, event_id), the
// payload, and whether (and when) it was applied, why it failed, or why it was rejected.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { WEBHOOK_PROVIDERS } from '../../../shared/schemas/billing.ts';
import { idProperty, timestampColumn } from '../../common/entity-properties.ts';

export const WebhookEvent = defineEntity({
  name: 'WebhookEvent',
  tableName: 'webhook_events',
  properties: {
    id: idProperty(),
    provider: p.enum(WEBHOOK_PROVIDERS),
    eventId: p.string().length(255),
    type: p.string().length(120),
    payload: p.json<Record<string, unknown>>(),
    receivedAt: timestampColumn().onCreate(() => new Date()),
    processedAt: timestampColumn().nullable(),
    error: p.text().nullable(),
    /** A correctly signed body that is not an event: answered 400, kept for inspection, never applied. */
    rejectedAt: timestampColumn().nullable(),
    attempts: p.integer().default(0),
  },
  uniques: [{ name: 'webhook_events_provider_event_id_unique', properties: ['provider', 'eventId'] }],
  indexes: [
    { name: 'webhook_events_type_received_at_idx', properties: ['type', 'receivedAt'] },
    // The backlog /metrics reports (pending and failing events, the oldest one's age).
    {
      name: 'webhook_events_unprocessed_idx',
      expression:
        'create index "webhook_events_unprocessed_idx" on "webhook_events" ("provider", "received_at") where "processed_at" is null',
    },
  ],
});
export type WebhookEvent = InferEntity<typeof WebhookEvent>;
