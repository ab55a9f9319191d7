// One-off credit packages with a buy button each.
import { formatCredits, formatMoney } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { Empty, ErrorState } from '../../ui/layout.tsx';
import { SkeletonTiles } from '../../ui/skeleton.tsx';
import { useCheckout } from './use-checkout.ts';

export function PackageList() {
  const packages = trpc.billing.packages.useQuery();
  const checkout = useCheckout();
  if (packages.isPending) return <SkeletonTiles tiles={3} label="Loading credit packages" />;
  if (packages.error) return <ErrorState error={packages.error} retry={() => packages.refetch()} />;
  if (packages.data.length === 0) return <Empty title="No credit packages on sale" />;
  return (
    <div>
      <ul className="grid gap-4 sm:grid-cols-3">
        {packages.data.map((pkg) => (
          <li
            key={pkg.id}
            className="flex flex-col rounded-2xl bg-white p-5 shadow-sm ring-1 ring-slate-200"
            data-testid="package"
          >
            <h3 className="font-semibold text-slate-900">{pkg.name}</h3>
            <p className="mt-1 text-2xl font-bold text-slate-900">{formatCredits(pkg.credits)}</p>
            <p className="text-sm text-slate-600">
              {formatMoney(pkg.priceCents, pkg.currency)} ·{' '}
              {formatMoney(Math.round((pkg.priceCents / pkg.credits) * 100), pkg.currency)} per 100
            </p>
            <Button
              className="mt-4"
              busy={
                checkout.isPending &&
                checkout.variables?.kind === 'package' &&
                checkout.variables.packageId === pkg.id
              }
              onClick={() => checkout.mutate({ kind: 'package', packageId: pkg.id })}
              aria-label={`Buy ${pkg.name}`}
            >
              Buy {pkg.name}
            </Button>
          </li>
        ))}
      </ul>
      {checkout.error && (
        <p role="alert" className="mt-3 text-sm text-red-700">
          {checkout.error.message}
        </p>
      )}
    </div>
  );
}
