// Refunds and disputes of payments (Stripe charge.refunded and charge.dispute.*, Polar
// order.refunded): the payment's status follows, and the credits it gave are taken back as far as
// they are unspent — one `clawback` ledger row per refund step or dispute, never below zero; what
// was already spent is recorded on the payment as uncollected. A won dispute reinstates exactly
// what its clawback took. Every change happens under the payment's row lock and is keyed by the
// reversal (payment_reversals is unique per provider id), so replays, reordering and concurrent
// deliveries apply each refund and dispute once.
//
// Refunds are cumulative (a charge's `amount_refunded`, an order's `refunded_amount`): each new
// high-water mark is one reversal of the difference, so an older event arriving late changes
// nothing. The credits a refund takes back are the payment's credits in proportion to the money
// refunded (all of them for a full refund).
import type { EntityManager } from '@mikro-orm/postgresql';
import type { PaymentProvider, PaymentStatus } from '../../../shared/schemas/billing.ts';
import { uuidv7 } from '../../common/ids.ts';
import { sql } from '../../db/sql.ts';
import * as credits from '../credits/credits.service.ts';

type PaymentRow = {
  id: string;
  user_id: string | null;
  kind: 'credit_package' | 'subscription';
  external_payment_id: string;
  amount_cents: number;
  status: PaymentStatus;
  refunded_cents: number;
  credits_clawed_back: number;
  credits_uncollected: number;
  credits_reinstated: number;
  charge_id: string | null;
};

type ReversalRow = {
  id: string;
  amount_cents: number;
  credits_clawed_back: number;
  credits_uncollected: number;
  clawed_at: Date | null;
  reinstated_at: Date | null;
  clawback_transaction_id: string | null;
  outcome: string | null;
};

/** The payment a provider reference (payment id, payment intent, charge, invoice) points at, locked. */
async function lockPayment(
  em: EntityManager,
  provider: PaymentProvider,
  refs: (string | null | undefined)[],
) {
  const ids = [...new Set(refs.filter((ref): ref is string => Boolean(ref)))];
  if (!ids.length) return null;
  const rows = await sql<PaymentRow>(
    em,
    `select id, user_id, kind, external_payment_id, amount_cents, status, refunded_cents, credits_clawed_back,
            credits_uncollected, credits_reinstated, charge_id
       from payments
      where provider = $1 and (external_payment_id = any($2::text[]) or payment_intent_id = any($2::text[])
             or charge_id = any($2::text[]))
      order by created_at limit 1 for update`,
    [provider, ids],
  );
  return rows[0] ?? null;
}

/** Credits the payment gave (its purchase, or its invoice's grants) and the grants to take them from. */
async function creditsOfPayment(em: EntityManager, payment: PaymentRow) {
  const [given] = await sql<{ total: string }>(
    em,
    `select coalesce(sum(amount), 0) as total from credit_transactions
      where payment_id = $1 and type in ('purchase', 'subscription_grant')`,
    [payment.id],
  );
  const grants =
    payment.kind === 'subscription'
      ? (
          await sql<{ id: string }>(
            em,
            `select g.id from credit_grants g join credit_transactions t on t.id = g.source_transaction_id
              where t.payment_id = $1`,
            [payment.id],
          )
        ).map((row) => row.id)
      : null;
  return { given: Number(given?.total ?? 0), grants };
}

/** Still owed by reversals: credits given minus what reversals already took or found spent. */
const unreversed = (payment: PaymentRow, given: number) =>
  Math.max(0, given - payment.credits_clawed_back - payment.credits_uncollected + payment.credits_reinstated);

const share = (given: number, cents: number, total: number) =>
  total <= 0 || cents >= total ? given : Math.round((given * cents) / total);

/** Takes back the reversal's credits, once (its clawed_at), and books it on reversal and payment. */
async function clawBackFor(
  em: EntityManager,
  payment: PaymentRow,
  reversal: ReversalRow,
  wantedOf: (given: number) => number,
  options: { revoke: boolean; label: string },
) {
  if (reversal.clawed_at || !payment.user_id) return;
  const { given, grants } = await creditsOfPayment(em, payment);
  const wanted = Math.min(wantedOf(given), unreversed(payment, given));
  const result =
    wanted > 0
      ? await credits.clawBack(em, {
          userId: payment.user_id,
          wanted,
          grantIds: grants,
          revoke: options.revoke,
          idempotencyKey: `clawback:${reversal.id}`,
          paymentId: payment.id,
          description: options.label,
          metadata: { reversalId: reversal.id },
        })
      : { clawed: 0, uncollected: 0, transactionId: null };
  await sql(
    em,
    `update payment_reversals set clawed_at = now(), credits_clawed_back = $1, credits_uncollected = $2,
            clawback_transaction_id = $3, updated_at = now() where id = $4`,
    [result.clawed, result.uncollected, result.transactionId, reversal.id],
  );
  await sql(
    em,
    `update payments set credits_clawed_back = credits_clawed_back + $1, credits_uncollected = credits_uncollected + $2,
            updated_at = now() where id = $3`,
    [result.clawed, result.uncollected, payment.id],
  );
  payment.credits_clawed_back += result.clawed;
  payment.credits_uncollected += result.uncollected;
  reversal.clawed_at = new Date();
  reversal.credits_clawed_back = result.clawed;
  reversal.credits_uncollected = result.uncollected;
  reversal.clawback_transaction_id = result.transactionId;
}

const refundedStatus = (payment: PaymentRow): PaymentStatus =>
  payment.refunded_cents <= 0
    ? 'succeeded'
    : payment.refunded_cents >= payment.amount_cents
      ? 'refunded'
      : 'partially_refunded';

async function setStatus(em: EntityManager, payment: PaymentRow, status: PaymentStatus) {
  if (payment.status === status) return;
  await sql(em, 'update payments set status = $1, updated_at = now() where id = $2', [status, payment.id]);
  payment.status = status;
}

export type RefundReport = {
  provider: PaymentProvider;
  /** References the refunded payment may be known by. */
  refs: (string | null | undefined)[];
  /** Cumulative money refunded on the charge or order so far. */
  refundedCents: number;
};

/** A full or partial refund (cumulative): claws back the new part once. */
export async function applyRefund(em: EntityManager, report: RefundReport) {
  const payment = await lockPayment(em, report.provider, report.refs);
  // Not known yet (the refund overtook the payment's own event): fail; the redelivery applies it.
  if (!payment)
    throw new Error(`The refunded payment (${report.refs.filter(Boolean).join(', ')}) is not known yet`);
  const cumulative = Math.min(report.refundedCents, payment.amount_cents || report.refundedCents);
  if (cumulative <= payment.refunded_cents) return;
  const step = cumulative - payment.refunded_cents;
  const externalId = `${payment.external_payment_id}:refunded:${cumulative}`;
  const rows = await sql<ReversalRow>(
    em,
    `insert into payment_reversals (id, payment_id, provider, kind, external_id, amount_cents, status, created_at, updated_at)
     values ($1, $2, $3, 'refund', $4, $5, $6, now(), now())
     on conflict (provider, external_id) do nothing
     returning id, amount_cents, credits_clawed_back, credits_uncollected, clawed_at, reinstated_at,
               clawback_transaction_id, outcome`,
    [uuidv7(), payment.id, report.provider, externalId, step, 'refunded'],
  );
  const reversal = rows[0];
  if (!reversal) return;
  const before = payment.refunded_cents;
  payment.refunded_cents = cumulative;
  await sql(em, 'update payments set refunded_cents = $1, updated_at = now() where id = $2', [
    cumulative,
    payment.id,
  ]);
  const full = cumulative >= payment.amount_cents;
  await clawBackFor(
    em,
    payment,
    reversal,
    // This step's share: the target for the new total minus the target for the old one.
    (given) => share(given, cumulative, payment.amount_cents) - share(given, before, payment.amount_cents),
    { revoke: full, label: full ? 'Payment refunded' : 'Payment partly refunded' },
  );
  if (payment.status !== 'disputed' && payment.status !== 'dispute_lost') {
    await setStatus(em, payment, refundedStatus(payment));
  }
}

export type DisputeReport = {
  provider: PaymentProvider;
  refs: (string | null | undefined)[];
  disputeId: string;
  amountCents: number;
  /** The provider's dispute status (Stripe: warning_needs_response … won, lost). */
  status: string;
  /** This event says the money was taken from us (Stripe charge.dispute.funds_withdrawn). */
  fundsWithdrawn?: boolean;
  /** This event says the money came back (Stripe charge.dispute.funds_reinstated). */
  fundsReinstated?: boolean;
};

/** Inquiries (`warning_*`) take no money until they become a chargeback. */
const CHARGEBACK_OPEN = new Set(['needs_response', 'under_review', 'lost']);
const WON = new Set(['won', 'prevented']);

/**
 * A dispute's news, in any order: funds withdrawn (or a chargeback status) → claw back once;
 * won or funds reinstated → reinstate exactly what was clawed back, once (and never claw back
 * afterwards, however late the creation event arrives); lost → the clawback stays.
 */
export async function applyDispute(em: EntityManager, report: DisputeReport) {
  const payment = await lockPayment(em, report.provider, report.refs);
  if (!payment)
    throw new Error(`The disputed payment (${report.refs.filter(Boolean).join(', ')}) is not known yet`);
  await sql(
    em,
    `insert into payment_reversals (id, payment_id, provider, kind, external_id, amount_cents, status, created_at, updated_at)
     values ($1, $2, $3, 'dispute', $4, $5, $6, now(), now())
     on conflict (provider, external_id) do nothing`,
    [uuidv7(), payment.id, report.provider, report.disputeId, report.amountCents, report.status],
  );
  const [reversal] = await sql<ReversalRow>(
    em,
    `select id, amount_cents, credits_clawed_back, credits_uncollected, clawed_at, reinstated_at,
            clawback_transaction_id, outcome
       from payment_reversals where provider = $1 and external_id = $2 for update`,
    [report.provider, report.disputeId],
  );
  if (!reversal) return;
  const won = report.fundsReinstated === true || WON.has(report.status);
  const lost = report.status === 'lost';
  const inquiryClosed = report.status === 'warning_closed';
  if (!reversal.outcome) {
    await sql(em, 'update payment_reversals set status = $1, updated_at = now() where id = $2', [
      report.status,
      reversal.id,
    ]);
  }
  if (won || inquiryClosed) {
    if (!reversal.outcome || reversal.outcome === 'lost') {
      await sql(
        em,
        `update payment_reversals set outcome = $1, closed_at = coalesce(closed_at, now()), status = $2, updated_at = now()
          where id = $3`,
        [won ? 'won' : 'closed', report.status, reversal.id],
      );
      reversal.outcome = won ? 'won' : 'closed';
    }
    await reinstateFor(em, payment, reversal);
    const stillDisputed = await openDisputes(em, payment.id);
    await setStatus(em, payment, stillDisputed ? 'disputed' : refundedStatus(payment));
    return;
  }
  // Closed in our favour already: a late "created" or "funds withdrawn" changes nothing.
  if (reversal.outcome === 'won' || reversal.outcome === 'closed') return;
  if (report.fundsWithdrawn === true || CHARGEBACK_OPEN.has(report.status)) {
    await clawBackFor(
      em,
      payment,
      reversal,
      (given) => share(given, report.amountCents, payment.amount_cents),
      { revoke: true, label: 'Payment disputed (chargeback)' },
    );
  }
  if (lost || reversal.outcome === 'lost') {
    await sql(
      em,
      `update payment_reversals set outcome = 'lost', closed_at = coalesce(closed_at, now()), status = 'lost',
              updated_at = now() where id = $1`,
      [reversal.id],
    );
    await setStatus(em, payment, 'dispute_lost');
    return;
  }
  await setStatus(em, payment, 'disputed');
}

async function openDisputes(em: EntityManager, paymentId: string) {
  const [row] = await sql<{ open: string }>(
    em,
    `select count(*) as open from payment_reversals where payment_id = $1 and kind = 'dispute' and outcome is null`,
    [paymentId],
  );
  return Number(row?.open ?? 0) > 0;
}

/** A won dispute: exactly what its clawback took comes back; what was spent is no longer owed. */
async function reinstateFor(em: EntityManager, payment: PaymentRow, reversal: ReversalRow) {
  if (!reversal.clawed_at || reversal.reinstated_at || !payment.user_id) return;
  const amount = reversal.clawback_transaction_id
    ? await credits.reinstate(em, {
        userId: payment.user_id,
        clawbackTransactionId: reversal.clawback_transaction_id,
        idempotencyKey: `reinstate:${reversal.id}`,
        description: 'Dispute won: credits reinstated',
      })
    : 0;
  await sql(
    em,
    `update payment_reversals set reinstated_at = now(), credits_reinstated = $1, credits_uncollected = 0,
            updated_at = now() where id = $2`,
    [amount, reversal.id],
  );
  await sql(
    em,
    `update payments set credits_reinstated = credits_reinstated + $1, credits_uncollected = credits_uncollected - $2,
            updated_at = now() where id = $3`,
    [amount, reversal.credits_uncollected, payment.id],
  );
  payment.credits_reinstated += amount;
  payment.credits_uncollected -= reversal.credits_uncollected;
}
