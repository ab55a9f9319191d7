// The admin settings singleton: the sign-up bonus and the signing secret (feature costs are
// versioned in feature_cost_versions). A unique index on a constant expression keeps it to one row.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty, idProperty, updatedAtProperty } from '../../common/entity-properties.ts';

export const AdminSettings = defineEntity({
  name: 'AdminSettings',
  tableName: 'admin_settings',
  properties: {
    id: idProperty(),
    signupBonus: p.integer(),
    /** HMAC key for signed, expiring file links (GET /files/:id?exp=…&sig=…). Never leaves the server. */
    signingSecret: p.string().length(128).hidden().lazy(),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
  indexes: [
    {
      name: 'admin_settings_singleton',
      expression: 'create unique index "admin_settings_singleton" on "admin_settings" ((true))',
    },
  ],
  checks: [{ name: 'admin_settings_signup_bonus_check', expression: 'signup_bonus >= 0' }],
});
export type AdminSettings = InferEntity<typeof AdminSettings>;
