// Asking a provider to stop a prediction is best effort and happens off the request path: the
// generation is already canceled and refunded in our database; a late result is discarded.
import type { Logger } from '../../../common/logger.ts';
import type { GenerationProvider } from './provider.ts';

export function cancelRemotePrediction(
  runtime: { providers: Record<string, GenerationProvider> },
  logger: Logger,
  prediction: { provider: string; id: string } | null,
): void {
  if (!prediction) return;
  const provider = runtime.providers[prediction.provider];
  provider?.cancel(prediction.id).catch((error: unknown) => {
    logger.warn({ err: error, prediction }, 'could not cancel the provider prediction');
  });
}
