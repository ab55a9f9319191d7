// A user's identity at a payment provider (Stripe customer, Polar customer).
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { PAYMENT_PROVIDERS } from '../../../shared/schemas/billing.ts';
import { createdAtProperty, idProperty, updatedAtProperty } from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';

export const Customer = defineEntity({
  name: 'Customer',
  tableName: 'customers',
  properties: {
    id: idProperty(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    provider: p.enum(PAYMENT_PROVIDERS),
    externalCustomerId: p.string().length(255),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  uniques: [
    {
      name: 'customers_provider_external_customer_id_unique',
      properties: ['provider', 'externalCustomerId'],
    },
    { name: 'customers_user_id_provider_unique', properties: ['user', 'provider'] },
  ],
});
export type Customer = InferEntity<typeof Customer>;
