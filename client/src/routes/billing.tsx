import { useSearchParams } from 'react-router';
import { AutoTopUpCard } from '../features/billing/auto-top-up-card.tsx';
import { PaymentHistory } from '../features/billing/payment-history.tsx';
import { PortalLink } from '../features/billing/portal-link.tsx';
import { SubscriptionCard } from '../features/billing/subscription-card.tsx';
import { PageHeader } from '../ui/layout.tsx';

const NOTICES: Record<string, string> = {
  'checkout:success': 'Payment received: your credits are in your balance.',
  'plan:upgraded': 'Plan upgraded: the extra credits for this period are in your balance.',
  'plan:downgrade_scheduled': 'Plan change scheduled: it takes effect at the end of your current period.',
  'plan:change_canceled': 'The scheduled plan change was canceled: you keep your current plan.',
};

export function BillingPage() {
  const [params] = useSearchParams();
  const notice =
    NOTICES[`checkout:${params.get('checkout')}`] ?? NOTICES[`plan:${params.get('plan')}`] ?? null;
  return (
    <>
      <PageHeader
        title="Billing"
        description="Your subscription, expiring credits, auto top-up and payments."
        actions={<PortalLink />}
      />
      {notice && (
        <p
          role="status"
          className="mb-6 rounded-xl bg-emerald-50 px-4 py-3 text-sm font-medium text-emerald-800 ring-1 ring-emerald-200"
        >
          {notice}
        </p>
      )}
      <div className="space-y-6">
        <SubscriptionCard />
        <AutoTopUpCard />
        <PaymentHistory />
      </div>
    </>
  );
}
