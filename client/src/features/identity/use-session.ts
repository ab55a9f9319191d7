// Who is signed in, and signing out. auth.me is the source of truth; after sign-in, sign-up or
// sign-out the whole cache is reset so no data of the previous user survives.
import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { trpc } from '../../lib/trpc.ts';

export function useMe() {
  return trpc.auth.me.useQuery(undefined, { staleTime: 60_000 });
}

/** After the session changed: forget every cached answer, then go where the user is expected. */
export function useSessionChanged() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return async (to: string) => {
    queryClient.clear();
    await navigate(to, { replace: true });
  };
}

export function useSignOut() {
  const sessionChanged = useSessionChanged();
  return trpc.auth.signOut.useMutation({ onSuccess: () => sessionChanged('/sign-in') });
}
