// Every email we send. A message is written here in the transaction that asks for it (so a reset
// link exists only if its token committed) and delivered afterwards by the worker's mail loop.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty, idProperty, timestampColumn } from '../../common/entity-properties.ts';

export const MailOutbox = defineEntity({
  name: 'MailOutbox',
  tableName: 'mail_outbox',
  properties: {
    id: idProperty(),
    to: p.string().length(254).index('mail_outbox_to_idx'),
    subject: p.string().length(200),
    body: p.text(),
    sentAt: timestampColumn().nullable(),
    /** Delivery attempts so far; the loop gives up after MAIL_MAX_ATTEMPTS. */
    attempts: p.integer().default(0),
    /** When the loop may (re)try; also the lease of an attempt in flight. Null once settled. */
    nextAttemptAt: timestampColumn().nullable(),
    /** The last delivery error. */
    error: p.text().nullable(),
    createdAt: createdAtProperty(),
  },
  indexes: [
    {
      name: 'mail_outbox_pending_idx',
      expression:
        'create index "mail_outbox_pending_idx" on "mail_outbox" ("next_attempt_at") where "sent_at" is null and "next_attempt_at" is not null',
    },
  ],
});
export type MailOutbox = InferEntity<typeof MailOutbox>;
