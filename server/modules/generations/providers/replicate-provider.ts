// A Replicate-style HTTP provider: POST /v1/predictions, GET /v1/predictions/:id,
// POST /v1/predictions/:id/cancel, and signed "completed" webhooks (Standard Webhooks: webhook-id,
// webhook-timestamp, webhook-signature), whose secret comes from GET /v1/webhooks/default/secret.
// Output images are downloaded into our storage; text output (a list of chunks) is joined.
import { Webhook } from 'standardwebhooks';
import type {
  GenerationProvider,
  ProviderFile,
  ProviderJob,
  ProviderResult,
  WebhookRequest,
} from './provider.ts';
import { ProviderOutputsGoneError, ProviderUnavailableError } from './provider.ts';

export type ReplicateOptions = {
  name?: string;
  baseUrl: string | (() => string);
  token: string | undefined;
  defaultModel?: string;
  /** Largest output file we download (bytes). */
  maxOutputBytes?: number;
  /** How long a prediction normally takes before reconciliation asks about it (seconds; default 300). */
  expectedSeconds?: number;
};

type Prediction = {
  id: string;
  status: 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled';
  output?: unknown;
  error?: unknown;
  metrics?: Record<string, unknown>;
};

const EXTENSION_OF: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/svg+xml': 'svg',
  'image/gif': 'gif',
};

export function createReplicateProvider(options: ReplicateOptions): GenerationProvider {
  const name = options.name ?? 'replicate';
  const base = () =>
    (typeof options.baseUrl === 'function' ? options.baseUrl() : options.baseUrl).replace(/\/$/, '');
  const maxOutputBytes = options.maxOutputBytes ?? 20 * 1024 * 1024;
  let secret: Promise<string> | undefined;

  async function call(path: string, init: RequestInit & { signal?: AbortSignal } = {}): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${base()}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${options.token ?? ''}`,
          'content-type': 'application/json',
          ...init.headers,
        },
      });
    } catch (cause) {
      throw new ProviderUnavailableError(`Cannot reach the provider: ${(cause as Error).message}`, { cause });
    }
    if (response.status === 429 || response.status >= 500) {
      throw new ProviderUnavailableError(`The provider answered ${response.status}`);
    }
    return response;
  }

  async function readPrediction(response: Response): Promise<Prediction | { rejected: string }> {
    const body = (await response.json().catch(() => null)) as (Prediction & { detail?: string }) | null;
    if (!response.ok || !body?.id) {
      return {
        rejected: `The provider refused the request (${response.status}${body?.detail ? `: ${body.detail}` : ''})`,
      };
    }
    return body;
  }

  async function download(url: string, index: number, signal?: AbortSignal): Promise<ProviderFile> {
    const response = await fetch(url, { signal }).catch((cause: unknown) => {
      throw new ProviderUnavailableError(`Cannot download an output: ${(cause as Error).message}`, { cause });
    });
    // Replicate deletes outputs an hour after the prediction: gone for good, not worth a retry.
    if (response.status === 404 || response.status === 410) {
      throw new ProviderOutputsGoneError(`The provider no longer has an output (${response.status})`);
    }
    if (!response.ok) throw new ProviderUnavailableError(`Downloading an output answered ${response.status}`);
    const body = Buffer.from(await response.arrayBuffer());
    if (body.length > maxOutputBytes) throw new Error(`An output is larger than ${maxOutputBytes} bytes`);
    const contentType =
      (response.headers.get('content-type') ?? 'application/octet-stream').split(';')[0] ?? '';
    return { name: `output-${index + 1}.${EXTENSION_OF[contentType] ?? 'bin'}`, contentType, body };
  }

  async function toResult(prediction: Prediction, signal?: AbortSignal): Promise<ProviderResult> {
    const providerResponse = {
      id: prediction.id,
      status: prediction.status,
      metrics: prediction.metrics ?? null,
    };
    switch (prediction.status) {
      case 'starting':
      case 'processing':
        return { state: 'pending', predictionId: prediction.id, providerResponse };
      case 'failed':
        return {
          state: 'failed',
          error: String(prediction.error ?? 'The provider reported a failure'),
          providerResponse,
        };
      case 'canceled':
        return { state: 'canceled', providerResponse };
      case 'succeeded': {
        const outputs = Array.isArray(prediction.output) ? prediction.output : [prediction.output];
        const urls = outputs.filter(
          (item): item is string => typeof item === 'string' && /^https?:\/\//.test(item),
        );
        if (urls.length > 0) {
          const files = await Promise.all(urls.map((url, index) => download(url, index, signal)));
          return {
            state: 'succeeded',
            output: { files, providerResponse: { ...providerResponse, output: urls } },
          };
        }
        const text = outputs.filter((item) => typeof item === 'string').join('');
        const tokens = Number(prediction.metrics?.output_token_count ?? 0) || null;
        return { state: 'succeeded', output: { files: [], text, tokensUsed: tokens, providerResponse } };
      }
      default:
        return {
          state: 'failed',
          error: `Unknown prediction status "${String(prediction.status)}"`,
          providerResponse,
        };
    }
  }

  return {
    name,
    expectedSeconds: options.expectedSeconds ?? 300,
    async create(job: ProviderJob, signal: AbortSignal) {
      const response = await call('/v1/predictions', {
        method: 'POST',
        signal,
        body: JSON.stringify({
          ...(job.model || options.defaultModel ? { model: job.model ?? options.defaultModel } : {}),
          input: {
            ...job.input,
            prompt: job.prompt,
            num_outputs: job.outputCount,
            agent_type: job.agentType,
          },
          ...(job.webhookUrl ? { webhook: job.webhookUrl, webhook_events_filter: ['completed'] } : {}),
        }),
      });
      const prediction = await readPrediction(response);
      if ('rejected' in prediction) return { state: 'failed', error: prediction.rejected };
      return toResult(prediction, signal);
    },
    async get(predictionId: string, signal: AbortSignal) {
      const prediction = await readPrediction(
        await call(`/v1/predictions/${encodeURIComponent(predictionId)}`, { signal }),
      );
      if ('rejected' in prediction) return { state: 'failed', error: prediction.rejected };
      return toResult(prediction, signal);
    },
    async cancel(predictionId: string) {
      await call(`/v1/predictions/${encodeURIComponent(predictionId)}/cancel`, { method: 'POST' });
    },
    async parseWebhook(request: WebhookRequest) {
      secret ??= call('/v1/webhooks/default/secret')
        .then(async (response) => ((await response.json()) as { key: string }).key)
        .catch((error: unknown) => {
          secret = undefined;
          throw error;
        });
      const header = (key: string) => {
        const value = request.headers[key];
        return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
      };
      const headers = {
        'webhook-id': header('webhook-id'),
        'webhook-timestamp': header('webhook-timestamp'),
        'webhook-signature': header('webhook-signature'),
      };
      let prediction: Prediction;
      try {
        prediction = new Webhook(await secret).verify(request.rawBody, headers) as Prediction;
      } catch {
        return null;
      }
      if (!prediction?.id) return null;
      return {
        predictionId: prediction.id,
        eventId: headers['webhook-id'],
        result: () => toResult(prediction),
      };
    },
  };
}
