// AI generations: one row per request, with its provider lifecycle. Index names follow seed 000.
import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import {
  AGENT_TYPES,
  GENERATION_KINDS,
  GENERATION_STATUSES,
  type GenerationImage,
} from '../../../shared/schemas/generations.ts';
import {
  createdAtProperty,
  idProperty,
  partialIndexes,
  timestampColumn,
  updatedAtProperty,
} from '../../common/entity-properties.ts';
import { User } from '../identity/user.entity.ts';
import { Organization } from '../orgs/organization.entity.ts';
import { Project } from '../projects/project.entity.ts';
import { FeatureCostVersion } from '../settings/feature-cost-version.entity.ts';

export const Generation = defineEntity({
  name: 'Generation',
  tableName: 'generations',
  properties: {
    id: idProperty(),
    user: () => p.manyToOne(User).nullable().deleteRule('set null'),
    // The indexes of these nullable references skip NULLs (see `indexes`).
    organization: () => p.manyToOne(Organization).nullable().deleteRule('set null').index(false),
    project: () => p.manyToOne(Project).nullable().deleteRule('set null').index(false),
    kind: p.enum(GENERATION_KINDS),
    agentType: p.enum(AGENT_TYPES).nullable(),
    input: p.json<Record<string, unknown>>(),
    prompt: p.text().nullable(),
    provider: p.string().length(32),
    model: p.string().length(64).nullable(),
    outputCount: p.integer(),
    /** What the generation is priced at (unit cost × outputs): held at create, captured or released. */
    creditsCharged: p.integer(),
    /** The feature-cost version it was priced with (null: created before prices were versioned). */
    // No index: versions are never deleted, and every index costs generations.create.
    priceVersion: () => p.manyToOne(FeatureCostVersion).nullable().deleteRule('restrict'),
    /** The cost per output in that version. */
    unitCost: p.integer().nullable(),
    status: p.enum(GENERATION_STATUSES).default('queued').index('generations_status_idx'),
    providerPredictionId: p.string().length(128).nullable(),
    images: p.json<GenerationImage[]>().nullable(),
    response: p.text().nullable(),
    providerResponse: p.json<Record<string, unknown>>().nullable().lazy(),
    error: p.text().nullable(),
    tokensUsed: p.integer().nullable(),
    durationMs: p.integer().nullable(),
    attempts: p.integer().default(0),
    idempotencyKey: p.string().length(200).nullable(),
    startedAt: timestampColumn().nullable(),
    completedAt: timestampColumn().nullable(),
    deletedAt: timestampColumn().nullable(),
    createdAt: createdAtProperty().index('generations_created_at_idx'),
    updatedAt: updatedAtProperty(),
  },
  indexes: [
    // Partial: only rows that have the value. Every lookup is by a value (webhooks by prediction id,
    // ON DELETE SET NULL of an organization or project), and a new generation has none of the three,
    // so its insert skips three index entries (bench, README Performance).
    ...partialIndexes('generations', {
      generations_organization_id_idx: 'organization_id',
      generations_project_id_idx: 'project_id',
      generations_provider_prediction_id_idx: 'provider_prediction_id',
    }),
    {
      name: 'generations_user_id_created_at_idx',
      expression:
        'create index "generations_user_id_created_at_idx" on "generations" ("user_id", "created_at" desc, "id" desc)',
    },
  ],
  uniques: [{ name: 'generations_user_id_idempotency_key_unique', properties: ['user', 'idempotencyKey'] }],
  checks: [
    { name: 'generations_output_count_check', expression: 'output_count between 1 and 8' },
    { name: 'generations_credits_charged_check', expression: 'credits_charged >= 0' },
    {
      name: 'generations_unit_cost_check',
      expression: 'unit_cost is null or (unit_cost >= 0 and credits_charged = unit_cost * output_count)',
    },
  ],
});
export type Generation = InferEntity<typeof Generation>;
