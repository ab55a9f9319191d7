// Sending mail through an outbox. `sendMail` records the message in the caller's transaction;
// `deliverPendingMail` (the worker's mail loop) claims due messages with SKIP LOCKED, hands them to
// the transport (`log` or `smtp`) outside any transaction, and settles each: sent, or retried with
// backoff until MAIL_MAX_ATTEMPTS. Several workers never deliver one message twice at once; a
// worker that dies mid-send leaves a lease that expires, so the message is retried (at least once).
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../common/logger.ts';
import { sqlOutsideTransaction } from '../../db/sql.ts';
import { isDatabaseUnavailable } from '../../db/unavailable.ts';
import { MailOutbox } from './mail-outbox.entity.ts';
import type { MailTransport } from './mail-transport.ts';

export type Mail = { to: string; subject: string; body: string };

export const MAIL_MAX_ATTEMPTS = 8;
/** How long a claimed message is reserved for the worker sending it. */
const LEASE_SECONDS = 120;
/** Retry n waits 30 s · 2^(n-1), capped at 6 h. */
const backoffSeconds = (attempts: number) => Math.min(30 * 2 ** (attempts - 1), 6 * 3600);

export function sendMail(em: EntityManager, mail: Mail) {
  const now = new Date();
  em.create(MailOutbox, { ...mail, attempts: 0, nextAttemptAt: now, createdAt: now });
}

export type DeliveryReport = { sent: number; failed: number };

export async function deliverPendingMail(
  em: EntityManager,
  transport: MailTransport,
  logger: Logger,
  options: { batchSize?: number } = {},
): Promise<DeliveryReport> {
  // Out of any transaction on purpose (docs/decisions/0003): the claim commits before the send, each
  // send's outcome commits on its own, and no transaction is held open across an SMTP round trip.
  const claimed = await sqlOutsideTransaction<{
    id: string;
    to: string;
    subject: string;
    body: string;
    attempts: number;
  }>(
    em,
    `update mail_outbox set attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $1)
     where id in (
       select id from mail_outbox
       where sent_at is null and next_attempt_at is not null and next_attempt_at <= now()
       order by next_attempt_at limit $2 for update skip locked)
     returning id, "to", subject, body, attempts`,
    [LEASE_SECONDS, options.batchSize ?? 20],
  );
  const report: DeliveryReport = { sent: 0, failed: 0 };
  for (const mail of claimed) {
    try {
      await transport.send(mail);
      await sqlOutsideTransaction(
        em,
        'update mail_outbox set sent_at = now(), next_attempt_at = null, error = null where id = $1',
        [mail.id],
      );
      report.sent++;
    } catch (error) {
      const giveUp = mail.attempts >= MAIL_MAX_ATTEMPTS;
      await sqlOutsideTransaction(
        em,
        `update mail_outbox set error = $1, next_attempt_at = ${giveUp ? 'null' : 'now() + make_interval(secs => $3)'} where id = $2`,
        giveUp
          ? [String((error as Error).message), mail.id]
          : [String((error as Error).message), mail.id, backoffSeconds(mail.attempts)],
      );
      logger.warn({ mailId: mail.id, attempts: mail.attempts, giveUp, err: error }, 'mail delivery failed');
      report.failed++;
    }
  }
  return report;
}

/**
 * The worker's mail loop: delivers what is due every `intervalMs`, until stopped. Errors of the
 * loop itself (database down) are logged and retried on the next tick.
 */
export function startMailDelivery(options: {
  fork: () => EntityManager;
  transport: MailTransport;
  logger: Logger;
  intervalMs?: number;
}) {
  const intervalMs = options.intervalMs ?? 2000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = (async () => {
      try {
        let report: DeliveryReport;
        do report = await deliverPendingMail(options.fork(), options.transport, options.logger);
        while (!stopped && report.sent + report.failed > 0);
      } catch (error) {
        // An unreachable database is waited out: the next turn tries again.
        if (isDatabaseUnavailable(error))
          options.logger.warn({ err: error }, 'mail delivery waits for the database');
        else options.logger.error({ err: error }, 'mail delivery loop failed');
      }
      if (!stopped) timer = setTimeout(tick, intervalMs);
    })();
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
