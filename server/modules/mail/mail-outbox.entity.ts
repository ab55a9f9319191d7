// Every email we send, as sent (the `log` driver delivers by writing here and to the log).
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
    error: p.text().nullable(),
    createdAt: createdAtProperty(),
  },
});
export type MailOutbox = InferEntity<typeof MailOutbox>;
