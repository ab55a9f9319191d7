import { useSearchParams } from 'react-router';
import { PaymentHistory } from '../features/billing/payment-history.tsx';
import { SubscriptionCard } from '../features/billing/subscription-card.tsx';
import { PageHeader } from '../ui/layout.tsx';

export function BillingPage() {
  const [params] = useSearchParams();
  return (
    <>
      <PageHeader title="Billing" description="Your subscription, expiring credits and payments." />
      {params.get('checkout') === 'success' && (
        <p
          role="status"
          className="mb-6 rounded-xl bg-emerald-50 px-4 py-3 text-sm font-medium text-emerald-800 ring-1 ring-emerald-200"
        >
          Payment received: your credits are in your balance.
        </p>
      )}
      <div className="space-y-6">
        <SubscriptionCard />
        <PaymentHistory />
      </div>
    </>
  );
}
