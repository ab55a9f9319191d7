// The one small interface every AI provider implements. The worker calls create() once per
// generation (get() when resuming a prediction after a retry), cancel() on user request, and the
// provider webhook route hands callbacks to parseWebhook().
import type { AgentType, GenerationKind } from '../../../../shared/schemas/generations.ts';

export type ProviderJob = {
  generationId: string;
  kind: GenerationKind;
  input: Record<string, unknown>;
  prompt: string;
  model: string | null;
  outputCount: number;
  agentType: AgentType | null;
  /** Where the provider should POST status callbacks, when this deployment is reachable. */
  webhookUrl: string | null;
};

export type ProviderFile = { name: string; contentType: string; body: Buffer };

export type ProviderOutput = {
  files: ProviderFile[];
  text?: string | null;
  tokensUsed?: number | null;
  providerResponse?: Record<string, unknown> | null;
};

export type ProviderResult =
  | { state: 'succeeded'; output: ProviderOutput }
  | { state: 'failed'; error: string; providerResponse?: Record<string, unknown> | null }
  | { state: 'canceled'; providerResponse?: Record<string, unknown> | null }
  /** Accepted; the result arrives later by webhook or by polling get(). */
  | { state: 'pending'; predictionId: string; providerResponse?: Record<string, unknown> | null };

export type WebhookRequest = { headers: Record<string, string | string[] | undefined>; rawBody: Buffer };

export interface GenerationProvider {
  readonly name: string;
  /**
   * How long a prediction normally takes (seconds). A generation still running this long after its
   * prediction was recorded, with no callback, is asked about by the reconciliation job
   * (generation-reconcile.ts). Unset: the provider answers at once and is never reconciled.
   */
  readonly expectedSeconds?: number;
  create(job: ProviderJob, signal: AbortSignal): Promise<ProviderResult>;
  get(predictionId: string, signal: AbortSignal): Promise<ProviderResult>;
  cancel(predictionId: string): Promise<void>;
  /**
   * Verifies and parses a callback; null when the request is not authentic. `result()` fetches what
   * the result needs (output files): called only for a generation still waiting for it.
   */
  parseWebhook?(
    request: WebhookRequest,
  ): Promise<{ predictionId: string; eventId: string; result(): Promise<ProviderResult> } | null>;
}

/** A provider failure worth retrying (network, 5xx, rate limit), as opposed to a final verdict. */
export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
}

/** The provider no longer has a finished prediction's outputs (Replicate deletes them after an hour). */
export class ProviderOutputsGoneError extends Error {
  override name = 'ProviderOutputsGoneError';
}
