// The workspace features board (seed 003): named items with free tags. Tag filters use the GIN
// index (`tags && $1`: features carrying any of the tags); search matches name or description.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { z } from 'zod';
import type {
  createFeatureInput,
  featuresListInput,
  updateFeatureInput,
} from '../../../shared/schemas/orgs.ts';
import { AppError } from '../../common/app-error.ts';
import { decodeCursor, newestFirstAfter, toPage } from '../../common/pagination.ts';
import { sql } from '../../db/sql.ts';
import { Feature } from './feature.entity.ts';
import { toFeatureDto } from './orgs.dto.ts';

const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function listFeatures(
  em: EntityManager,
  organizationId: string,
  input: z.output<typeof featuresListInput>,
) {
  const cursor = decodeCursor(input.cursor);
  const rows = await em.find(
    Feature,
    {
      organization: organizationId,
      ...(input.tags?.length ? { tags: { $overlap: input.tags } } : {}),
      // Both the search and the cursor are `$or`s: combined under `$and` so neither replaces the other.
      $and: [
        input.search
          ? {
              $or: [
                { name: { $ilike: likePattern(input.search) } },
                { description: { $ilike: likePattern(input.search) } },
              ],
            }
          : {},
        newestFirstAfter(cursor),
      ],
    },
    { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: input.limit + 1 },
  );
  const page = toPage(rows, input.limit, toFeatureDto);
  // Every tag in use (for the filter chips), only on the first page.
  const allTags = cursor
    ? null
    : (
        await sql<{ tag: string }>(
          em,
          'select distinct unnest(tags) as tag from features where organization_id = $1 order by 1',
          [organizationId],
        )
      ).map((row) => row.tag);
  return { ...page, allTags };
}

async function featureOf(em: EntityManager, organizationId: string, featureId: string) {
  const feature = await em.findOne(Feature, { id: featureId, organization: organizationId });
  if (!feature) throw new AppError('not_found', 'No such feature');
  return feature;
}

export async function createFeature(
  em: EntityManager,
  organizationId: string,
  input: z.output<typeof createFeatureInput>,
) {
  const feature = em.create(Feature, {
    organization: organizationId,
    name: input.name,
    description: input.description ?? null,
    tags: input.tags,
  });
  await em.flush();
  return toFeatureDto(feature);
}

export async function updateFeature(
  em: EntityManager,
  organizationId: string,
  input: z.output<typeof updateFeatureInput>,
) {
  const feature = await featureOf(em, organizationId, input.featureId);
  if (input.name !== undefined) feature.name = input.name;
  if (input.description !== undefined) feature.description = input.description ?? null;
  if (input.tags !== undefined) feature.tags = input.tags;
  await em.flush();
  return toFeatureDto(feature);
}

export async function removeFeature(em: EntityManager, organizationId: string, featureId: string) {
  em.remove(await featureOf(em, organizationId, featureId));
  await em.flush();
  return { ok: true as const };
}
