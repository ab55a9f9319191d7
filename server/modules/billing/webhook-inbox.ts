// Store first, then apply once. Every verified webhook is inserted into webhook_events (a duplicate
// delivery inserts nothing); it is then applied inside one transaction that holds the event's row
// lock, so ten concurrent deliveries of one event apply it exactly once. A failure is recorded on
// the row and answered with 500, and the provider's redelivery retries it. A correctly signed body
// that is not an event is stored as rejected (answered 400) and never applied.
import { createHash } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { WebhookProvider } from '../../../shared/schemas/billing.ts';
import { uuidv7 } from '../../common/ids.ts';
import { sql } from '../../db/sql.ts';

export type InboxEvent = { id: string; type: string; payload: Record<string, unknown> };
export type ApplyResult = 'applied' | 'duplicate';

/** A signed body that is not an event (null, {}, no data, not JSON): 400, kept, never retried into effect. */
export class WebhookRejectedError extends Error {}

export async function receiveEvent(
  orm: MikroORM,
  provider: WebhookProvider,
  event: InboxEvent,
  apply: (em: EntityManager) => Promise<void>,
): Promise<ApplyResult> {
  await sql(
    orm.em.fork(),
    `insert into webhook_events (id, provider, event_id, type, payload, received_at, attempts)
     values ($1, $2, $3, $4, $5::jsonb, now(), 0)
     on conflict (provider, event_id) do nothing`,
    [uuidv7(), provider, event.id, event.type, JSON.stringify(event.payload)],
  );
  try {
    return await orm.em.fork().transactional(async (em) => {
      const rows = await sql<{ processed_at: Date | null; rejected_at: Date | null }>(
        em,
        'select processed_at, rejected_at from webhook_events where provider = $1 and event_id = $2 for update',
        [provider, event.id],
      );
      if (rows[0]?.rejected_at) throw new WebhookRejectedError('This event id was rejected before');
      if (rows[0]?.processed_at) return 'duplicate';
      await apply(em);
      await em.flush();
      await sql(
        em,
        `update webhook_events set processed_at = now(), error = null, attempts = attempts + 1
          where provider = $1 and event_id = $2`,
        [provider, event.id],
      );
      return 'applied';
    });
  } catch (error) {
    if (error instanceof WebhookRejectedError) throw error;
    await sql(
      orm.em.fork(),
      'update webhook_events set error = $1, attempts = attempts + 1 where provider = $2 and event_id = $3',
      [String((error as Error).message ?? error).slice(0, 2000), provider, event.id],
    );
    throw error;
  }
}

/**
 * Keeps a signed body that is not an event, as rejected (once per id; `id` null: the body's hash),
 * then throws WebhookRejectedError for the 400.
 */
export async function rejectEvent(
  orm: MikroORM,
  provider: WebhookProvider,
  id: string | null,
  rawBody: Buffer,
  reason: string,
): Promise<never> {
  const eventId = id || `rejected:${createHash('sha256').update(rawBody).digest('hex')}`;
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody.toString('utf8'));
  } catch {
    payload = null;
  }
  const stored =
    payload && typeof payload === 'object' && !Array.isArray(payload)
      ? payload
      : { body: rawBody.toString('utf8').slice(0, 65_536) };
  await sql(
    orm.em.fork(),
    `insert into webhook_events (id, provider, event_id, type, payload, received_at, rejected_at, error, attempts)
     values ($1, $2, $3, 'rejected', $4::jsonb, now(), now(), $5, 1)
     on conflict (provider, event_id) do nothing`,
    [uuidv7(), provider, eventId.slice(0, 255), JSON.stringify(stored), reason.slice(0, 2000)],
  );
  throw new WebhookRejectedError(reason);
}
