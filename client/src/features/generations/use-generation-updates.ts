// Live generation status: one SSE subscription (generations.onUpdate) for the signed-in user.
// Each pushed generation replaces its cached copy; lists and the balance (a refund changes it)
// are refreshed. No polling anywhere.
import { trpc } from '../../lib/trpc.ts';

export function useGenerationUpdates(enabled: boolean) {
  const utils = trpc.useUtils();
  trpc.generations.onUpdate.useSubscription(undefined, {
    enabled,
    onData(generation) {
      utils.generations.get.setData({ id: generation.id }, generation);
      void utils.generations.list.invalidate();
      if (generation.status === 'failed' || generation.status === 'canceled') void utils.credits.invalidate();
      if (generation.status === 'succeeded') void utils.storage.list.invalidate();
    },
  });
}
