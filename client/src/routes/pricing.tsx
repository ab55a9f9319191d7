// Pricing, for visitors and customers alike: a visitor who picks something is asked to sign up
// first and comes back here (see useCheckout).
import { PackageList } from '../features/billing/package-list.tsx';
import { PlanGrid } from '../features/billing/plan-grid.tsx';
import { useMe } from '../features/identity/use-session.ts';
import { PageHeader } from '../ui/layout.tsx';

export function PricingPage() {
  const me = useMe();
  return (
    <>
      <PageHeader
        title="Pricing"
        description={
          me.data
            ? 'A plan gives credits every month (spent first, expiring at period end); packages top you up for good.'
            : 'Start free. A plan gives credits every month; packages top you up for good. Failed runs are always refunded.'
        }
      />
      <PlanGrid />
      <h2 className="mt-12 mb-4 text-lg font-semibold text-slate-900">Credit packages</h2>
      <PackageList />
    </>
  );
}
