// Live generation status: one SSE subscription (generations.onUpdate) for the signed-in user.
// Each pushed generation replaces its cached copy; lists and the balance (a refund changes it)
// are refreshed. No polling anywhere. The server ends the stream with UNAUTHORIZED when the session
// ends (signed out elsewhere, revoked, password changed, banned): then the shell asks who we are
// again, and sends us to sign in.
import { useQueryClient } from '@tanstack/react-query';
import { checkSession, errorCode, trpc } from '../../lib/trpc.ts';

export function useGenerationUpdates(enabled: boolean) {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  trpc.generations.onUpdate.useSubscription(undefined, {
    enabled,
    onData(generation) {
      utils.generations.get.setData({ id: generation.id }, generation);
      void utils.generations.list.invalidate();
      if (generation.status === 'failed' || generation.status === 'canceled') void utils.credits.invalidate();
      if (generation.status === 'succeeded') void utils.storage.list.invalidate();
    },
    onError(error) {
      if (errorCode(error) === 'UNAUTHORIZED') checkSession(queryClient);
    },
  });
}
