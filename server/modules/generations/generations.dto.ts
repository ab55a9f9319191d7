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

/** A generations row as the database returns it (a raw select, or row_to_json). */
export type GenerationRow = {
  id: string;
  kind: GenerationDto['kind'];
  agent_type: GenerationDto['agentType'];
  status: GenerationDto['status'];
  input: Record<string, unknown>;
  prompt: string | null;
  model: string | null;
  output_count: number;
  credits_charged: number;
  images: GenerationDto['images'] | null;
  response: string | null;
  error: string | null;
  tokens_used: number | null;
  duration_ms: number | null;
  project_id: string | null;
  started_at: string | Date | null;
  completed_at: string | Date | null;
  created_at: string | Date;
};

const dateOf = (value: string | Date | null) => (value === null ? null : new Date(value));

export const generationDtoOf = (row: GenerationRow): GenerationDto => ({
  id: row.id,
  kind: row.kind,
  agentType: row.agent_type ?? null,
  status: row.status,
  input: row.input,
  prompt: row.prompt,
  model: row.model,
  outputCount: row.output_count,
  creditsCharged: row.credits_charged,
  images: row.images ?? [],
  response: row.response,
  error: row.error,
  tokensUsed: row.tokens_used,
  durationMs: row.duration_ms,
  projectId: row.project_id,
  startedAt: dateOf(row.started_at),
  completedAt: dateOf(row.completed_at),
  createdAt: new Date(row.created_at),
});
