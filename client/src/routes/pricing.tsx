import { PackageList } from '../features/billing/package-list.tsx';
import { PlanGrid } from '../features/billing/plan-grid.tsx';
import { PageHeader } from '../ui/layout.tsx';

export function PricingPage() {
  return (
    <>
      <PageHeader
        title="Pricing"
        description="A plan gives credits every month (spent first, expiring at period end); packages top you up for good."
      />
      <PlanGrid />
      <h2 className="mt-12 mb-4 text-lg font-semibold text-slate-900">Credit packages</h2>
      <PackageList />
    </>
  );
}
