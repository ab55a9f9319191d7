// The caller's payments: what each bought (plan or package), its status (refunds and disputes
// included) and the provider's receipt or invoice when there is one.
import { formatDateTime, formatMoney, humanize } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Card, Empty, ErrorState } from '../../ui/layout.tsx';
import { LoadMore } from '../../ui/load-more.tsx';
import { SkeletonRows } from '../../ui/skeleton.tsx';

const STATUS_STYLE: Record<string, string> = {
  succeeded: 'bg-emerald-50 text-emerald-700',
  refunded: 'bg-slate-100 text-slate-700',
  partially_refunded: 'bg-slate-100 text-slate-700',
  disputed: 'bg-amber-50 text-amber-800',
  dispute_lost: 'bg-red-50 text-red-700',
  failed: 'bg-red-50 text-red-700',
  pending: 'bg-slate-100 text-slate-600',
};

/** The provider's receipt (a purchase) or invoice (a subscription), in a new tab. */
function ReceiptLink({ url, kind }: { url: string; kind: string }) {
  return (
    <a href={url} target="_blank" rel="noreferrer" className="font-semibold text-indigo-700 hover:underline">
      {kind === 'subscription' ? 'Invoice' : 'Receipt'}
    </a>
  );
}

export function PaymentHistory() {
  const payments = trpc.billing.payments.useInfiniteQuery(
    { limit: 10 },
    { getNextPageParam: (page) => page.nextCursor },
  );
  const rows = payments.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <Card title="Payments">
      {payments.isPending ? (
        <SkeletonRows label="Loading payments" />
      ) : payments.error ? (
        <ErrorState error={payments.error} retry={() => payments.refetch()} />
      ) : rows.length === 0 ? (
        <Empty title="No payments yet" />
      ) : (
        <>
          {/* On phones, When, Status and Receipt fold under What; the amount always stays. */}
          <div className="-mx-5">
            <table className="w-full text-sm" data-testid="payments">
              <thead className="text-left text-xs uppercase tracking-wide text-slate-600">
                <tr>
                  <th className="hidden px-5 py-2 font-medium sm:table-cell">When</th>
                  <th className="px-5 py-2 font-medium">What</th>
                  <th className="hidden px-5 py-2 font-medium sm:table-cell">Status</th>
                  <th className="px-5 py-2 text-right font-medium">Amount</th>
                  <th className="hidden px-5 py-2 font-medium sm:table-cell">
                    <span className="sr-only">Receipt</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {rows.map((row) => (
                  <tr key={row.id}>
                    <td className="hidden whitespace-nowrap px-5 py-2.5 text-slate-600 sm:table-cell">
                      {formatDateTime(row.createdAt)}
                    </td>
                    <td className="px-5 py-2.5 font-medium text-slate-800">
                      {row.description}
                      <span className="block text-xs font-normal text-slate-600 sm:hidden">
                        {formatDateTime(row.createdAt)} · {humanize(row.status)}
                        {row.receiptUrl && (
                          <>
                            {' · '}
                            <ReceiptLink url={row.receiptUrl} kind={row.kind} />
                          </>
                        )}
                      </span>
                    </td>
                    <td className="hidden px-5 py-2.5 sm:table-cell">
                      <span
                        className={`rounded-full px-2 py-0.5 text-xs font-semibold ${STATUS_STYLE[row.status] ?? 'bg-slate-100 text-slate-700'}`}
                      >
                        {humanize(row.status)}
                      </span>
                    </td>
                    <td className="whitespace-nowrap px-5 py-2.5 text-right tabular-nums text-slate-800">
                      {formatMoney(row.amountCents, row.currency)}
                      {row.refundedCents > 0 && (
                        <span className="block text-xs text-slate-600">
                          {formatMoney(row.refundedCents, row.currency)} refunded
                        </span>
                      )}
                    </td>
                    <td className="hidden whitespace-nowrap px-5 py-2.5 sm:table-cell">
                      {row.receiptUrl ? (
                        <ReceiptLink url={row.receiptUrl} kind={row.kind} />
                      ) : (
                        <span className="text-xs text-slate-600">—</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LoadMore query={payments} />
        </>
      )}
    </Card>
  );
}
