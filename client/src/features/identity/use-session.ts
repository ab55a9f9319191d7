// Who is signed in, and signing out. auth.me is the source of truth; after sign-in, sign-up or
// sign-out the whole cache is reset so no data of the previous user survives.
import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { session, trpc } from '../../lib/trpc.ts';

export function useMe() {
  return trpc.auth.me.useQuery(undefined, { staleTime: 60_000 });
}

/** After the session changed: forget every cached answer, then go where the user is expected. */
export function useSessionChanged() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return async (to: string) => {
    session.ended = false;
    queryClient.clear();
    await navigate(to, { replace: true });
  };
}

export function useSignOut() {
  const sessionChanged = useSessionChanged();
  return trpc.auth.signOut.useMutation({ onSuccess: () => sessionChanged('/sign-in') });
}

/** Only same-site paths: a `next` from the address bar is never an open redirect. */
export const safeNext = (value: string | null | undefined) =>
  value?.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\') ? value : '/';

/** The sign-in (or sign-up) address that brings the user back to `path` afterwards. */
export const signInPath = (path: string, page: 'sign-in' | 'sign-up' = 'sign-in') =>
  path === '/' ? `/${page}` : `/${page}?next=${encodeURIComponent(path)}`;
