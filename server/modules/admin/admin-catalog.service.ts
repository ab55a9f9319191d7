// Admin editing of plans, credit packages and settings. Archiving hides a row from the catalog
// (existing subscriptions and payments keep pointing at it); nothing is deleted.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type {
  packageUpsertInput,
  planUpsertInput,
  settingsUpdateInput,
} from '../../../shared/schemas/admin.ts';
import { AppError } from '../../common/app-error.ts';
import { type Actor, record } from '../audit/audit.service.ts';
import { toAdminPackageDto, toAdminPlanDto } from '../billing/billing.dto.ts';
import { CreditPackage } from '../billing/credit-package.entity.ts';
import { Plan } from '../billing/plan.entity.ts';
import { AdminSettings } from '../settings/admin-settings.entity.ts';
import { publishFeatureCosts, readSettings, settingsChanged } from '../settings/settings.service.ts';

export async function listPlans(em: EntityManager) {
  return (await em.find(Plan, {}, { orderBy: { active: 'desc', sortOrder: 'asc', key: 'asc' } })).map(
    toAdminPlanDto,
  );
}

export async function upsertPlan(em: EntityManager, actor: Actor, input: z.output<typeof planUpsertInput>) {
  const { id, stripePriceMonthlyId, stripePriceYearlyId, ...fields } = input;
  const plan = id ? await em.findOne(Plan, { id }) : await em.findOne(Plan, { key: input.key });
  if (id && !plan) throw new AppError('not_found', 'No such plan');
  const clash = await em.findOne(Plan, { key: input.key, ...(plan ? { id: { $ne: plan.id } } : {}) });
  if (clash)
    throw new AppError('conflict', 'Another plan has this key', { fieldErrors: { key: ['Already used'] } });
  // A provider's product or price sells one plan only.
  const linked = {
    externalPriceMonthlyId: stripePriceMonthlyId,
    externalPriceYearlyId: stripePriceYearlyId,
    polarProductMonthlyId: input.polarProductMonthlyId,
    polarProductYearlyId: input.polarProductYearlyId,
  };
  const fieldOf = {
    externalPriceMonthlyId: 'stripePriceMonthlyId',
    externalPriceYearlyId: 'stripePriceYearlyId',
    polarProductMonthlyId: 'polarProductMonthlyId',
    polarProductYearlyId: 'polarProductYearlyId',
  } as const;
  const ids = Object.values(linked).filter((value): value is string => Boolean(value));
  if (new Set(ids).size !== ids.length) {
    throw new AppError('bad_request', 'A provider id can sell one interval only', {
      fieldErrors: { polarProductYearlyId: ['Same id as another interval'] },
    });
  }
  for (const [column, value] of Object.entries(linked) as [keyof typeof linked, string | null][]) {
    if (!value) continue;
    const other = await em.findOne(Plan, {
      $or: [
        { externalPriceMonthlyId: value },
        { externalPriceYearlyId: value },
        { polarProductMonthlyId: value },
        { polarProductYearlyId: value },
      ],
      ...(plan ? { id: { $ne: plan.id } } : {}),
    });
    if (other) {
      throw new AppError('conflict', `Another plan (${other.key}) is linked to ${value}`, {
        fieldErrors: { [fieldOf[column]]: ['Already linked to another plan'] },
      });
    }
  }
  const row = plan ?? em.create(Plan, { key: input.key, name: input.name });
  em.assign(row, {
    ...fields,
    ...linked,
    description: fields.description ?? null,
    badge: fields.badge ?? null,
    ctaLabel: fields.ctaLabel ?? null,
    ctaUrl: fields.ctaUrl ?? null,
    active: true,
  });
  await em.flush();
  record(em, actor, 'plan.upserted', { type: 'plan', id: row.id }, { key: row.key, created: !plan });
  return toAdminPlanDto(row);
}

export async function archivePlan(em: EntityManager, actor: Actor, id: string) {
  const plan = await em.findOne(Plan, { id });
  if (!plan) throw new AppError('not_found', 'No such plan');
  plan.active = false;
  record(em, actor, 'plan.archived', { type: 'plan', id }, { key: plan.key });
  return toAdminPlanDto(plan);
}

export async function listPackages(em: EntityManager) {
  return (
    await em.find(CreditPackage, {}, { orderBy: { active: 'desc', sortOrder: 'asc', credits: 'asc' } })
  ).map(toAdminPackageDto);
}

export async function upsertPackage(
  em: EntityManager,
  actor: Actor,
  input: z.output<typeof packageUpsertInput>,
) {
  const { id, ...fields } = input;
  const existing = id ? await em.findOne(CreditPackage, { id }) : null;
  if (id && !existing) throw new AppError('not_found', 'No such credit package');
  const row =
    existing ??
    em.create(CreditPackage, { name: input.name, credits: input.credits, priceCents: input.priceCents });
  em.assign(row, {
    ...fields,
    stripePriceId: fields.stripePriceId || null,
    polarProductId: fields.polarProductId || null,
    active: true,
  });
  await em.flush();
  record(
    em,
    actor,
    'package.upserted',
    { type: 'credit_package', id: row.id },
    { name: row.name, created: !existing },
  );
  return toAdminPackageDto(row);
}

export async function archivePackage(em: EntityManager, actor: Actor, id: string) {
  const pkg = await em.findOne(CreditPackage, { id });
  if (!pkg) throw new AppError('not_found', 'No such credit package');
  pkg.active = false;
  record(em, actor, 'package.archived', { type: 'credit_package', id }, { name: pkg.name });
  return toAdminPackageDto(pkg);
}

/**
 * Changes the sign-up bonus and/or the feature costs. New costs are a new price version (effective
 * now, or at `effectiveFrom`): generations already created keep the price they were held at.
 */
export async function updateSettings(
  em: EntityManager,
  actor: Actor,
  input: z.output<typeof settingsUpdateInput>,
) {
  const [row] = await em.findAll(AdminSettings, { limit: 1 });
  if (!row) throw new AppError('not_found', 'The settings row is missing: run npm run db:seed');
  if (input.effectiveFrom && !input.featureCosts) {
    throw new AppError('bad_request', 'A date applies to new feature costs', {
      fieldErrors: { effectiveFrom: ['Change a cost too, or leave the date out'] },
    });
  }
  const before = await readSettings(em);
  const version = input.featureCosts
    ? await publishFeatureCosts(em, actor.userId, input.featureCosts, input.effectiveFrom)
    : null;
  const bonusChanged = input.signupBonus !== undefined && input.signupBonus !== before.signupBonus;
  if (bonusChanged) row.signupBonus = input.signupBonus as number;
  await em.flush();
  if (!version && !bonusChanged) return before;
  await settingsChanged(em);
  const after = await readSettings(em);
  if (version) {
    record(
      em,
      actor,
      'feature_costs.versioned',
      { type: 'feature_cost_version', id: version.id },
      { before: before.featureCosts, costs: version.costs, effectiveFrom: version.effectiveFrom },
    );
  }
  if (bonusChanged) {
    record(
      em,
      actor,
      'settings.updated',
      { type: 'admin_settings', id: row.id },
      { before: { signupBonus: before.signupBonus }, after: { signupBonus: after.signupBonus } },
    );
  }
  return after;
}
