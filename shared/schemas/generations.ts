// Generations: kinds, lifecycle, agent types, and the per-kind inputs of generations.create.
import { z } from 'zod';
import type { OperationType } from './credits.ts';

export const GENERATION_KINDS = ['logo', 'image', 'text', 'code'] as const;
export type GenerationKind = (typeof GENERATION_KINDS)[number];

export const GENERATION_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export type GenerationStatus = (typeof GENERATION_STATUSES)[number];
export const TERMINAL_GENERATION_STATUSES = [
  'succeeded',
  'failed',
  'canceled',
] as const satisfies GenerationStatus[];

export const AGENT_TYPES = [
  'orchestrator',
  'backend',
  'frontend',
  'database',
  'auth',
  'integrations',
  'devops',
] as const;
export type AgentType = (typeof AGENT_TYPES)[number];

/** What a generation of each kind is charged as (AdminSettings.feature_costs is per operation). */
export const OPERATION_OF_KIND = {
  logo: 'logo_generation',
  image: 'image_generation',
  text: 'text_generation',
  code: 'code_generation',
} as const satisfies Record<GenerationKind, OperationType>;

export const OUTPUT_COUNT_MAX = 8;

export const hexColor = z
  .string()
  .trim()
  .regex(/^#(?:[0-9a-fA-F]{3}){1,2}$/, { error: 'Use a hex colour like #6d28d9' })
  .transform((value) => value.toLowerCase());

export const logoInput = z.object({
  appName: z.string().trim().min(1, { error: 'Name your app' }).max(60),
  appFocus: z.string().trim().min(2, { error: 'Say what the app is about' }).max(200),
  color1: hexColor,
  color2: hexColor,
});
export type LogoInput = z.output<typeof logoInput>;

const promptInput = z.object({
  prompt: z.string().trim().min(3, { error: 'Describe what you want' }).max(4000),
});

const common = {
  outputCount: z.number().int().min(1).max(OUTPUT_COUNT_MAX).default(1),
  /** Repeating a create with the same key returns the first generation instead of charging twice. */
  idempotencyKey: z.string().min(8).max(200).optional(),
  model: z.string().max(64).optional(),
};

/** generations.create for a logo; also the logo generator form's schema (same field paths). */
export const createLogoGenerationInput = z.object({ kind: z.literal('logo'), input: logoInput, ...common });

export const createGenerationInput = z.discriminatedUnion('kind', [
  createLogoGenerationInput,
  z.object({ kind: z.literal('image'), input: promptInput, ...common }),
  z.object({ kind: z.literal('text'), input: promptInput, ...common, outputCount: z.literal(1).default(1) }),
  z.object({
    kind: z.literal('code'),
    input: promptInput,
    agentType: z.enum(AGENT_TYPES).default('orchestrator'),
    ...common,
    outputCount: z.literal(1).default(1),
  }),
]);
export type CreateGenerationInput = z.input<typeof createGenerationInput>;
export type CreateGenerationCommand = z.output<typeof createGenerationInput>;

export const generationIdInput = z.object({ id: z.uuid() });

export const listGenerationsInput = z
  .object({
    cursor: z.string().max(100).nullish(),
    limit: z.number().int().min(1).max(100).default(20),
    status: z.array(z.enum(GENERATION_STATUSES)).max(GENERATION_STATUSES.length).optional(),
    kind: z.array(z.enum(GENERATION_KINDS)).max(GENERATION_KINDS.length).optional(),
    projectId: z.uuid().optional(),
    /** Words in the prompt (a logo's prompt holds its app name, focus and colours), any case. */
    search: z.string().trim().max(200).optional(),
    from: z.date().optional(),
    to: z.date().optional(),
  })
  .refine((input) => !input.from || !input.to || input.from <= input.to, {
    error: '"from" must be before "to"',
    path: ['to'],
  });
export type ListGenerationsInput = z.input<typeof listGenerationsInput>;
export type ListGenerationsQuery = z.output<typeof listGenerationsInput>;

/** A generated output stored as a file: its storage object and a URL an <img> can load. */
export type GenerationImage = { objectId: string; url: string; contentType: string };
