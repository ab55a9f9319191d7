// Feature costs, versioned (issue 16): every change an administrator makes is a new row, effective
// from a moment (now, or scheduled), never an edit. A generation records the version and the unit
// cost it was priced with, so a price change never touches work in flight. The current price is the
// version with the latest effective_from not after now (ties: the later created).
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import type { OperationType } from '../../../shared/schemas/credits.ts';
import { createdAtProperty, idProperty, timestampColumn } from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';

export const FeatureCostVersion = defineEntity({
  name: 'FeatureCostVersion',
  tableName: 'feature_cost_versions',
  properties: {
    id: idProperty(),
    /** Credits per output, per operation (every operation present). */
    costs: p.json<Record<OperationType, number>>(),
    effectiveFrom: timestampColumn(),
    /** The administrator who made it; null for the first version (copied from the settings). */
    createdBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    createdAt: createdAtProperty(),
  },
  indexes: [
    {
      name: 'feature_cost_versions_effective_idx',
      expression:
        'create index "feature_cost_versions_effective_idx" on "feature_cost_versions" ("effective_from" desc, "created_at" desc)',
    },
  ],
});
export type FeatureCostVersion = InferEntity<typeof FeatureCostVersion>;
