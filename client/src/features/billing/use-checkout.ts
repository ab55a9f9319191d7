// Starts a checkout: Stripe's hosted page (a full navigation), or the local dev checkout route.
// A visitor who is not signed in is sent to sign up first, and back to pricing afterwards.
import { useNavigate } from 'react-router';
import { trpc } from '../../lib/trpc.ts';
import { signInPath, useMe } from '../identity/use-session.ts';

export function useCheckout() {
  const navigate = useNavigate();
  const me = useMe();
  const checkout = trpc.billing.checkout.useMutation({
    onSuccess: ({ url }) => {
      if (url.startsWith('/')) void navigate(url);
      else window.location.assign(url);
    },
  });
  if (me.data) return checkout;
  return {
    ...checkout,
    mutate: () => void navigate(signInPath('/pricing', 'sign-up')),
  } as typeof checkout;
}
