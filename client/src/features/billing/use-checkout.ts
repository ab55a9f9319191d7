// Starts a checkout: Stripe's hosted page (a full navigation), or the local dev checkout route.
import { useNavigate } from 'react-router';
import { trpc } from '../../lib/trpc.ts';

export function useCheckout() {
  const navigate = useNavigate();
  return trpc.billing.checkout.useMutation({
    onSuccess: ({ url }) => {
      if (url.startsWith('/')) void navigate(url);
      else window.location.assign(url);
    },
  });
}
