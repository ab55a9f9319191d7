// Live generation status: one SSE subscription (generations.onUpdate) for the signed-in user.
// Each pushed generation replaces its cached copy and refreshes the lists; one that ended
// refreshes the balance too (its hold settled). No polling anywhere. The server ends the stream
// with UNAUTHORIZED when the session ends (signed out elsewhere, revoked, password changed,
// banned): then the shell asks who we are again, and sends us to sign in.
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
      // Any end settles the generation's hold: a success turns it into the charge (the total drops,
      // nothing held), a failure or cancel gives it back — the balance changes either way.
      // (Not TERMINAL_GENERATION_STATUSES: its module brings zod into every page's first load.)
      const ended = generation.status !== 'queued' && generation.status !== 'running';
      if (ended) void utils.credits.invalidate();
      if (generation.status === 'succeeded') void utils.storage.list.invalidate();
    },
    onError(error) {
      if (errorCode(error) === 'UNAUTHORIZED') checkSession(queryClient);
    },
  });
}
