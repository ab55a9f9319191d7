// A refund or a dispute of a payment, once per provider id (Stripe `re_…`/`dp_…`, or a refund step
// `<charge>:<cumulative amount>` when the provider names none). It records what it did to the
// buyer's credits: clawed back (unspent), uncollected (already spent), reinstated (a won dispute).
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { PAYMENT_PROVIDERS, REVERSAL_KINDS } from '../../../shared/schemas/billing.ts';
import {
  createdAtProperty,
  idProperty,
  timestampColumn,
  updatedAtProperty,
} from '../../common/entity-properties.ts';
import { Payment } from './payment.entity.ts';

export const PaymentReversal = defineEntity({
  name: 'PaymentReversal',
  tableName: 'payment_reversals',
  properties: {
    id: idProperty(),
    payment: () => p.manyToOne(Payment).deleteRule('cascade').index('payment_reversals_payment_id_idx'),
    provider: p.enum(PAYMENT_PROVIDERS),
    kind: p.enum(REVERSAL_KINDS),
    externalId: p.string().length(255),
    amountCents: p.integer(),
    /** The provider's status (a dispute's needs_response, won, lost…; a refund's succeeded). */
    status: p.string().length(40),
    creditsClawedBack: p.integer().default(0),
    creditsUncollected: p.integer().default(0),
    creditsReinstated: p.integer().default(0),
    /** When its credits were clawed back (a dispute may wait for the funds to be withdrawn). */
    clawedAt: timestampColumn().nullable(),
    /** The `clawback` ledger row, when anything could be taken. */
    clawbackTransactionId: p.uuid().nullable(),
    reinstatedAt: timestampColumn().nullable(),
    /** For disputes: when it ended, and how (won: the credits come back; lost: they stay taken). */
    closedAt: timestampColumn().nullable(),
    outcome: p.string().length(20).nullable(),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  uniques: [
    { name: 'payment_reversals_provider_external_id_unique', properties: ['provider', 'externalId'] },
  ],
  checks: [
    {
      name: 'payment_reversals_amounts_check',
      expression:
        'amount_cents >= 0 and credits_clawed_back >= 0 and credits_uncollected >= 0 and credits_reinstated >= 0 and credits_reinstated <= credits_clawed_back',
    },
  ],
});
export type PaymentReversal = InferEntity<typeof PaymentReversal>;
