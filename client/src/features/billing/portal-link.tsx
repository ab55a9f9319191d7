// "Manage billing": opens the payment provider's customer portal (Stripe billing portal, Polar
// customer portal) for payment methods, invoices and the subscription; shown only when there is one.
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';

export function PortalLink() {
  const overview = trpc.billing.subscription.useQuery();
  const portal = trpc.billing.portal.useMutation({
    onSuccess: ({ url }) => window.location.assign(url),
  });
  if (!overview.data?.portal) return null;
  return (
    <div className="flex flex-col items-end gap-1">
      <Button variant="secondary" busy={portal.isPending} onClick={() => portal.mutate()}>
        Manage billing
      </Button>
      {portal.error && (
        <p role="alert" className="text-sm text-red-700">
          {portal.error.message}
        </p>
      )}
    </div>
  );
}
