// Auto top-up: "when my balance falls below N credits, buy package P" with the user's saved card.
//
// Triggered once per crossing, asynchronously. Nothing on the spending path: a sweep (every few
// seconds in each worker; one user at a time under a row lock, SKIP LOCKED between workers) walks
// the ledger rows written since it last looked (`checked_seq`) — `armed` turns on at a row at or
// above N and a row below N while armed is a crossing, which disarms. So a thousand spends that
// cross once buy once, a balance that comes back up (the top-up landing, a purchase, a grant)
// re-arms, and a crossing the sweep saw late still counts. Saving the setting re-arms it (and buys
// at the next sweep when the balance is already below N).
//
// A crossing with no top-up in flight (at most one open attempt per user, a partial unique index)
// records what is sold in `checkouts` (credits and price fixed now, like any checkout) and an
// attempt, and enqueues its `auto-top-up` job in the same transaction. The job pays: with Stripe,
// an off-session PaymentIntent on the customer's default card (confirm, idempotency key per
// attempt, so a retried job never charges twice); with the dev checkout, the signed events a
// Stripe charge would send. The credits land through `payment_intent.succeeded` — from the API
// response or the webhook, whichever first, through the same code and the existing purchase path
// (exactly once per payment intent, as the checkout sold). A decline is recorded on the attempt,
// shown on the Billing page, mailed, and not retried: the next try needs the balance back above N
// or the setting saved again. Only network trouble is retried.
//
// "Balance" here is the available balance (balance − held: what new generations can use), since
// generations hold their price instead of spending it at once (issue 16). A hold writes no ledger
// row, so besides the ledger walk the sweep also compares the available balance now: an armed
// setting whose available balance is below N crosses (a hold took it there), a disarmed one whose
// available balance is back at N or above re-arms (a release or a top-up brought it back). In the
// walk, a row whose balance_after (a total, held credits included) is below N is a crossing — the
// available balance was lower still — and one re-arms only when it is at N or above even with the
// credits held now.
import type { EntityManager } from '@mikro-orm/postgresql';
import type Stripe from 'stripe';
import type { AutoTopUpStatus } from '../../../shared/schemas/billing.ts';
import { AppError } from '../../common/app-error.ts';
import type { Logger } from '../../common/logger.ts';
import { sql } from '../../db/sql.ts';
import { record, SYSTEM } from '../audit/audit.service.ts';
import type { JobAttempt } from '../jobs/attempt.ts';
import { type Jobs, QUEUES } from '../jobs/queue.ts';
import { sendMail } from '../mail/mail.service.ts';
import { AutoTopUp, AutoTopUpAttempt } from './auto-top-up.entity.ts';
import * as billing from './billing.service.ts';
import { Checkout } from './checkout.entity.ts';
import { CreditPackage } from './credit-package.entity.ts';
import { devChargeSavedCard } from './dev-checkout.ts';
import type { PaymentWebhookDeps } from './payment-webhooks.ts';

export type AutoTopUpDeps = PaymentWebhookDeps & { jobs: Jobs; logger: Logger };
export type AutoTopUpJob = { attemptId: string };

/** How long the price and credits of a triggered top-up stay on offer (its checkout row). */
const CHECKOUT_TTL_MS = 24 * 3600 * 1000;
const DEV_CARD_LABEL = 'Dev checkout card (no money is taken)';

type TopUpProvider = 'stripe' | 'dev';
const topUpProvider = (deps: Pick<PaymentWebhookDeps, 'config' | 'stripe'>): TopUpProvider | null =>
  deps.config.devCheckout ? 'dev' : deps.stripe ? 'stripe' : null;

// ---- the saved card ------------------------------------------------------------------------

type SavedCard = { paymentMethodId: string; customerId: string; label: string };

const cardLabel = (method: Stripe.PaymentMethod) =>
  method.card
    ? `${method.card.brand.charAt(0).toUpperCase()}${method.card.brand.slice(1)} •••• ${method.card.last4}`
    : `Saved ${method.type.replaceAll('_', ' ')}`;

/**
 * The card an off-session payment would use: the customer's default (invoice settings), else the
 * card saved last. Dev checkout: a customer made by an earlier dev checkout counts as a card.
 */
async function savedCard(
  em: EntityManager,
  deps: Pick<PaymentWebhookDeps, 'config' | 'stripe'>,
  userId: string,
): Promise<SavedCard | null> {
  const customer = await billing.customerOf(em, userId, 'stripe');
  if (!customer) return null;
  const provider = topUpProvider(deps);
  if (provider === 'dev') {
    return billing.isDevId(customer.externalCustomerId)
      ? { paymentMethodId: 'pm_dev_card', customerId: customer.externalCustomerId, label: DEV_CARD_LABEL }
      : null;
  }
  if (provider !== 'stripe' || !deps.stripe || billing.isDevId(customer.externalCustomerId)) return null;
  const found = await deps.stripe.customers.retrieve(customer.externalCustomerId, {
    expand: ['invoice_settings.default_payment_method'],
  });
  if ('deleted' in found && found.deleted) return null;
  const fallback = async () =>
    (await deps.stripe?.customers.listPaymentMethods(customer.externalCustomerId, { type: 'card', limit: 1 }))
      ?.data[0];
  const preferred = (found as Stripe.Customer).invoice_settings?.default_payment_method ?? null;
  const method =
    typeof preferred === 'string'
      ? await deps.stripe.paymentMethods.retrieve(preferred)
      : (preferred ?? (await fallback()));
  if (!method) return null;
  return { paymentMethodId: method.id, customerId: customer.externalCustomerId, label: cardLabel(method) };
}

// ---- the setting ---------------------------------------------------------------------------

type AttemptRow = {
  id: string;
  status: AutoTopUpStatus;
  error: string | null;
  created_at: Date;
  completed_at: Date | null;
  credits: number | null;
  amount_cents: number | null;
  currency: string | null;
  item_name: string | null;
};

/** billing.autoTopUp.get: the setting, whether it can be turned on, and the latest attempts. */
export async function getAutoTopUp(
  em: EntityManager,
  deps: Pick<PaymentWebhookDeps, 'config' | 'stripe'>,
  userId: string,
) {
  const setting = await em.findOne(
    AutoTopUp,
    { user: userId },
    { populate: ['creditPackage'], refresh: true },
  );
  const attempts = await sql<AttemptRow>(
    em,
    `select a.id, a.status, a.error, a.created_at, a.completed_at, c.credits, c.amount_cents, c.currency, c.item_name
       from auto_top_up_attempts a left join checkouts c on c.id = a.checkout_id
      where a.user_id = $1 order by a.created_at desc limit 5`,
    [userId],
  );
  const provider = topUpProvider(deps);
  const customer = provider ? await billing.customerOf(em, userId, 'stripe') : null;
  const hasCustomer = !!customer && (provider === 'dev') === billing.isDevId(customer.externalCustomerId);
  return {
    setting: setting
      ? {
          enabled: setting.enabled,
          threshold: setting.threshold,
          /** False from a top-up until the balance is back at or above the threshold. */
          armed: setting.armed,
          paymentMethodLabel: setting.paymentMethodLabel ?? null,
          package: {
            id: setting.creditPackage.id,
            name: setting.creditPackage.name,
            credits: setting.creditPackage.credits,
            priceCents: setting.creditPackage.priceCents,
            currency: setting.creditPackage.currency,
            active: setting.creditPackage.active,
          },
        }
      : null,
    /** Whether the user has what auto top-up charges (a card saved with the payment provider). */
    available: hasCustomer,
    unavailableReason: !provider
      ? 'Payments are not set up on this server'
      : hasCustomer
        ? null
        : 'Auto top-up charges a saved card: buy credits or a plan with a card once, then come back',
    attempts: attempts.map((row) => ({
      id: row.id,
      status: row.status,
      error: row.error,
      description: row.item_name,
      credits: row.credits === null ? null : Number(row.credits),
      amountCents: row.amount_cents === null ? null : Number(row.amount_cents),
      currency: row.currency,
      createdAt: new Date(row.created_at),
      completedAt: row.completed_at ? new Date(row.completed_at) : null,
    })),
  };
}

/**
 * billing.autoTopUp.set: saves the setting and arms it. Turning it on needs a saved card (checked
 * with the provider now) and a package on sale with a price.
 */
export async function setAutoTopUp(
  em: EntityManager,
  deps: Pick<PaymentWebhookDeps, 'config' | 'stripe'>,
  userId: string,
  input: { enabled: boolean; threshold: number; packageId: string },
) {
  const pkg = await em.findOne(CreditPackage, { id: input.packageId, active: true });
  if (!pkg) {
    throw new AppError('bad_request', 'That credit package is not on sale', {
      fieldErrors: { packageId: ['Pick a package on sale'] },
    });
  }
  if (pkg.priceCents <= 0) {
    throw new AppError('bad_request', 'A free package cannot be bought automatically', {
      fieldErrors: { packageId: ['Pick a paid package'] },
    });
  }
  let label: string | null = null;
  if (input.enabled) {
    if (!topUpProvider(deps)) throw new AppError('unavailable', 'Payments are not set up on this server');
    const card = await savedCard(em, deps, userId);
    if (!card) {
      throw new AppError(
        'unavailable',
        'Auto top-up charges a saved card, and there is none yet: subscribe to a plan, or add a card under Manage billing',
      );
    }
    label = card.label;
  }
  // Armed from the balance as it is now: the ledger before this moment is not walked again.
  await sql(
    em,
    `insert into auto_top_ups (id, user_id, credit_package_id, threshold, enabled, armed, checked_seq,
                               payment_method_label, created_at, updated_at)
     select gen_random_uuid(), b.user_id, $1, $2, $3, true, b.ledger_seq, $4, now(), now()
       from credit_balances b where b.user_id = $5
     on conflict (user_id) do update set
       credit_package_id = excluded.credit_package_id, threshold = excluded.threshold,
       enabled = excluded.enabled, armed = true, checked_seq = excluded.checked_seq,
       payment_method_label = coalesce(excluded.payment_method_label, auto_top_ups.payment_method_label),
       updated_at = now()`,
    [pkg.id, input.threshold, input.enabled, label, userId],
  );
  return getAutoTopUp(em, deps, userId);
}

// ---- the sweep: crossings → attempts -------------------------------------------------------

export type SweepReport = { checked: number; triggered: number };

type SettingRow = {
  id: string;
  user_id: string;
  credit_package_id: string;
  threshold: number;
  armed: boolean;
  checked_seq: number;
  enabled: boolean;
};

/**
 * Finds the settings whose user's ledger moved since the last look (or that are armed with the
 * balance already below the threshold) and evaluates each in its own transaction.
 */
export async function sweepAutoTopUps(
  deps: Omit<AutoTopUpDeps, 'logger'>,
  options: { batchSize?: number } = {},
): Promise<SweepReport> {
  const due = await sql<{ id: string }>(
    deps.orm.em.fork(),
    `select a.id from auto_top_ups a
       join credit_balances b on b.user_id = a.user_id
       join users u on u.id = a.user_id and u.status = 'active'
      where a.enabled and (b.ledger_seq > a.checked_seq
                           or (a.armed and b.balance - b.held < a.threshold)
                           or (not a.armed and b.balance - b.held >= a.threshold))
      limit $1`,
    [options.batchSize ?? 500],
  );
  const report: SweepReport = { checked: 0, triggered: 0 };
  for (const { id } of due) {
    const outcome = await deps.orm.em.fork().transactional((em) => evaluate(em, deps, id));
    if (outcome === 'busy') continue;
    report.checked++;
    if (outcome === 'triggered') report.triggered++;
  }
  return report;
}

async function evaluate(
  em: EntityManager,
  deps: Omit<AutoTopUpDeps, 'logger'>,
  settingId: string,
): Promise<'busy' | 'idle' | 'triggered'> {
  // Another worker's sweep has this user: it evaluates the same rows.
  const [setting] = await sql<SettingRow>(
    em,
    `select id, user_id, credit_package_id, threshold, armed, checked_seq, enabled
       from auto_top_ups where id = $1 for update skip locked`,
    [settingId],
  );
  if (!setting?.enabled) return 'busy';
  const [balance] = await sql<{ balance: number; held: number; ledger_seq: number }>(
    em,
    'select balance - held as balance, held, ledger_seq from credit_balances where user_id = $1',
    [setting.user_id],
  );
  if (!balance) return 'idle';
  // Rows up to the sequence number read with the balance: all committed with it.
  const rows = await sql<{ balance_after: number }>(
    em,
    `select balance_after from credit_transactions where user_id = $1 and seq > $2 and seq <= $3 order by seq`,
    [setting.user_id, setting.checked_seq, balance.ledger_seq],
  );
  const threshold = Number(setting.threshold);
  let armed = setting.armed;
  let crossed = false;
  for (const row of rows) {
    if (Number(row.balance_after) - Number(balance.held) >= threshold) armed = true;
    else if (armed && Number(row.balance_after) < threshold) {
      crossed = true;
      armed = false;
    }
  }
  // `balance` is the available balance now.
  if (armed && Number(balance.balance) < threshold) {
    crossed = true;
    armed = false;
  } else if (!armed && !crossed && Number(balance.balance) >= threshold) armed = true;
  if (crossed) {
    const open = await sql(
      em,
      `select 1 from auto_top_up_attempts where user_id = $1 and status in ('pending', 'processing')`,
      [setting.user_id],
    );
    // A top-up is already on its way: its credits re-arm the setting when they land.
    if (open.length > 0) crossed = false;
  }
  await sql(em, 'update auto_top_ups set armed = $1, checked_seq = $2, updated_at = now() where id = $3', [
    armed,
    balance.ledger_seq,
    setting.id,
  ]);
  if (!crossed) return 'idle';
  await trigger(em, deps, setting, Number(balance.balance));
  return 'triggered';
}

async function trigger(
  em: EntityManager,
  deps: Omit<AutoTopUpDeps, 'logger'>,
  setting: SettingRow,
  balance: number,
) {
  const pkg = await em.findOne(CreditPackage, { id: setting.credit_package_id });
  const provider = topUpProvider(deps);
  const problem = !pkg?.active
    ? `${pkg?.name ?? 'The chosen'} package is no longer sold: pick another one`
    : !provider
      ? 'Payments are not set up on this server'
      : null;
  const attempt = em.create(AutoTopUpAttempt, {
    user: setting.user_id,
    threshold: Number(setting.threshold),
    balance,
    status: problem ? 'failed' : 'pending',
    error: problem,
    completedAt: problem ? new Date() : null,
  });
  if (pkg && provider && !problem) {
    attempt.checkout = em.create(Checkout, {
      user: setting.user_id,
      provider,
      kind: 'credit_package',
      creditPackage: pkg.id,
      itemName: `${pkg.name} (auto top-up)`,
      credits: pkg.credits,
      amountCents: pkg.priceCents,
      currency: pkg.currency,
      expiresAt: new Date(Date.now() + CHECKOUT_TTL_MS),
    });
  }
  await em.flush();
  record(
    em,
    SYSTEM,
    'billing.auto_top_up_triggered',
    { type: 'user', id: setting.user_id },
    { attemptId: attempt.id, threshold: Number(setting.threshold), balance, packageId: pkg?.id ?? null },
  );
  if (problem) {
    await notifyFailure(em, deps, attempt.id, problem);
    return;
  }
  await deps.jobs.enqueue<AutoTopUpJob>(em, QUEUES.autoTopUp, { attemptId: attempt.id });
}

/** The worker's sweep loop: every `intervalMs` until stopped; its own errors are logged and retried. */
export function startAutoTopUpSweep(deps: AutoTopUpDeps, options: { intervalMs?: number } = {}) {
  const intervalMs = options.intervalMs ?? 5000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = (async () => {
      try {
        const report = await sweepAutoTopUps(deps);
        if (report.triggered > 0) deps.logger.info(report, 'auto top-ups triggered');
      } catch (error) {
        deps.logger.error({ err: error }, 'auto top-up sweep failed');
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

// ---- paying --------------------------------------------------------------------------------

type ClaimedAttempt = {
  id: string;
  user_id: string;
  checkout_id: string;
  provider: TopUpProvider;
  credits: number;
  amount_cents: number;
  currency: string;
  credit_package_id: string | null;
  item_name: string;
};

const TRANSIENT = new Set([
  'StripeConnectionError',
  'StripeAPIError',
  'StripeRateLimitError',
  'StripeLockTimeoutError',
]);

/** The auto-top-up job: pays for one attempt. Throws only to have network trouble retried. */
export async function chargeAutoTopUp(
  deps: AutoTopUpDeps,
  attemptId: string,
  attempt: JobAttempt,
): Promise<void> {
  const [claimed] = await sql<ClaimedAttempt>(
    deps.orm.em.fork(),
    `with claimed as (
       update auto_top_up_attempts set status = 'processing', updated_at = now()
        where id = $1 and status in ('pending', 'processing') returning id, user_id, checkout_id)
     select a.id, a.user_id, a.checkout_id, c.provider, c.credits, c.amount_cents, c.currency,
            c.credit_package_id, c.item_name
       from claimed a join checkouts c on c.id = a.checkout_id`,
    [attemptId],
  );
  if (!claimed) return; // settled already (a duplicate job, or the webhook came first)
  const metadata = {
    userId: claimed.user_id,
    checkoutId: claimed.checkout_id,
    packageId: claimed.credit_package_id ?? '',
    credits: String(claimed.credits),
    autoTopUpAttemptId: claimed.id,
  };
  const fail = (message: string, paymentIntentId: string | null = null) =>
    deps.orm.em.fork().transactional((em) => failAttempt(em, deps, claimed.id, message, paymentIntentId));

  if (claimed.provider === 'dev') {
    if (!deps.config.devCheckout) return fail('The dev checkout is off on this server');
    await devChargeSavedCard(deps, {
      checkoutId: claimed.checkout_id,
      userId: claimed.user_id,
      amountCents: Number(claimed.amount_cents),
      currency: claimed.currency,
      metadata,
    });
    return;
  }
  const stripe = deps.stripe;
  if (!stripe) return fail('Stripe is not configured on this server');
  try {
    const card = await savedCard(deps.orm.em.fork(), deps, claimed.user_id);
    if (!card) return fail('There is no saved card to charge: add one in the billing portal');
    const intent = await stripe.paymentIntents.create(
      {
        amount: Number(claimed.amount_cents),
        currency: claimed.currency,
        customer: card.customerId,
        payment_method: card.paymentMethodId,
        off_session: true,
        confirm: true,
        description: claimed.item_name,
        metadata,
      },
      // A retried job (or a second worker) gets Stripe's first answer back: never two charges.
      { idempotencyKey: `auto-top-up:${claimed.id}` },
    );
    await deps.orm.em.fork().transactional((em) => settleTopUpIntent(em, deps, intent));
  } catch (error) {
    const stripeError = error as Partial<Stripe.errors.StripeError>;
    if (stripeError.type === 'StripeCardError') {
      return fail(stripeError.message ?? 'The card was declined', stripeError.payment_intent?.id ?? null);
    }
    const transient = TRANSIENT.has(stripeError.type ?? '') || (stripeError.statusCode ?? 0) >= 500;
    if (transient && attempt.retryCount < attempt.retryLimit) {
      deps.logger.warn({ attemptId, err: error }, 'auto top-up: Stripe unavailable; will retry');
      throw error;
    }
    return fail(`The payment could not be made: ${stripeError.message ?? String(error)}`);
  }
}

/**
 * A payment intent of an auto top-up, as Stripe reports it (the API's answer, or a
 * `payment_intent.*` webhook): succeeded → the purchase, through the same path as any package
 * order (exactly once per payment intent, the credits the checkout sold) and the attempt succeeded
 * — even after a failure was recorded, since the money was taken; failed → the attempt failed.
 * Intents that are not auto top-ups are left alone.
 */
export async function settleTopUpIntent(
  em: EntityManager,
  deps: Pick<PaymentWebhookDeps, 'config'>,
  intent: Pick<
    Stripe.PaymentIntent,
    | 'id'
    | 'status'
    | 'amount'
    | 'amount_received'
    | 'currency'
    | 'metadata'
    | 'latest_charge'
    | 'last_payment_error'
  >,
) {
  const attemptId = intent.metadata?.autoTopUpAttemptId;
  if (!attemptId || !/^[0-9a-f-]{36}$/.test(attemptId)) return;
  const [attempt] = await sql<{
    id: string;
    user_id: string;
    checkout_id: string | null;
    status: AutoTopUpStatus;
  }>(em, 'select id, user_id, checkout_id, status from auto_top_up_attempts where id = $1 for update', [
    attemptId,
  ]);
  // Not ours (another installation on the same Stripe account), or not this user's.
  if (!attempt || attempt.user_id !== intent.metadata.userId) return;
  if (intent.status === 'succeeded') {
    await billing.recordPackagePurchase(em, {
      provider: 'stripe',
      externalPaymentId: intent.id,
      userId: attempt.user_id,
      amountCents: intent.amount_received || intent.amount,
      currency: intent.currency,
      packageId: intent.metadata.packageId || null,
      checkoutId: attempt.checkout_id,
      credits: intent.metadata.credits,
      paymentIntentId: intent.id,
      chargeId:
        typeof intent.latest_charge === 'string' ? intent.latest_charge : (intent.latest_charge?.id ?? null),
    });
    await sql(
      em,
      `update auto_top_up_attempts set status = 'succeeded', payment_intent_id = $1, error = null,
              completed_at = coalesce(completed_at, now()), updated_at = now()
        where id = $2 and status <> 'succeeded'`,
      [intent.id, attempt.id],
    );
    return;
  }
  if (intent.status === 'processing') {
    await sql(
      em,
      'update auto_top_up_attempts set payment_intent_id = $1, updated_at = now() where id = $2',
      [intent.id, attempt.id],
    );
    return;
  }
  await failAttempt(
    em,
    deps,
    attempt.id,
    intent.last_payment_error?.message ?? 'The payment did not go through',
    intent.id,
  );
}

/** Marks an open attempt failed (once), audits it and mails the user. */
async function failAttempt(
  em: EntityManager,
  deps: Pick<PaymentWebhookDeps, 'config'>,
  attemptId: string,
  message: string,
  paymentIntentId: string | null,
) {
  const rows = await sql<{ id: string }>(
    em,
    `update auto_top_up_attempts set status = 'failed', error = $1, payment_intent_id = coalesce($2, payment_intent_id),
            completed_at = now(), updated_at = now()
      where id = $3 and status in ('pending', 'processing') returning id`,
    [message.slice(0, 2000), paymentIntentId, attemptId],
  );
  if (rows[0]) await notifyFailure(em, deps, attemptId, message);
}

async function notifyFailure(
  em: EntityManager,
  deps: Pick<PaymentWebhookDeps, 'config'>,
  attemptId: string,
  message: string,
) {
  const [row] = await sql<{
    user_id: string;
    email: string;
    threshold: number;
    credits: number | null;
    item_name: string | null;
  }>(
    em,
    `select a.user_id, u.email, a.threshold, c.credits, c.item_name
       from auto_top_up_attempts a join users u on u.id = a.user_id left join checkouts c on c.id = a.checkout_id
      where a.id = $1`,
    [attemptId],
  );
  if (!row) return;
  record(
    em,
    SYSTEM,
    'billing.auto_top_up_failed',
    { type: 'user', id: row.user_id },
    { attemptId, error: message },
  );
  sendMail(em, {
    to: row.email,
    subject: 'Your automatic credit top-up did not go through',
    body: [
      `Your balance fell below ${row.threshold} credits, so we tried to buy ${row.item_name ?? 'credits'} for you.`,
      `It did not go through: ${message}`,
      '',
      `We will not try again until your balance is back above ${row.threshold} credits, or you save your auto top-up setting again.`,
      `Your billing page: ${deps.config.publicUrl}/billing`,
    ].join('\n'),
  });
}
