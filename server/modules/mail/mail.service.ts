// Sending mail. The `log` driver (default) records the message in mail_outbox, in the caller's
// transaction, and logs it: a reset link is never sent for a change that rolled back. An SMTP
// driver would deliver from the outbox after commit (MAIL_DRIVER=smtp is accepted by config but
// not wired yet: see README, "Not yet built").
import type { EntityManager } from '@mikro-orm/postgresql';
import { MailOutbox } from './mail-outbox.entity.ts';

export type Mail = { to: string; subject: string; body: string };

export function sendMail(em: EntityManager, mail: Mail) {
  em.create(MailOutbox, { ...mail, sentAt: new Date() });
}
