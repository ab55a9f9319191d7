// Plain objects the generation procedures return (never the provider's raw response).
import type { Generation } from './generation.entity.ts';

export const toGenerationDto = (row: Generation) => ({
  id: row.id,
  kind: row.kind,
  agentType: row.agentType ?? null,
  status: row.status,
  input: row.input,
  prompt: row.prompt ?? null,
  model: row.model ?? null,
  outputCount: row.outputCount,
  creditsCharged: row.creditsCharged,
  images: row.images ?? [],
  response: row.response ?? null,
  error: row.error ?? null,
  tokensUsed: row.tokensUsed ?? null,
  durationMs: row.durationMs ?? null,
  projectId: row.project?.id ?? null,
  startedAt: row.startedAt ?? null,
  completedAt: row.completedAt ?? null,
  createdAt: row.createdAt as Date,
});
export type GenerationDto = ReturnType<typeof toGenerationDto>;
