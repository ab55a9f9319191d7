import { useState } from 'react';
import { AUDIT_ACTIONS, type AuditAction } from '../../../../shared/schemas/admin.ts';
import { formatDateTime } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { inputClass } from '../../ui/field.tsx';
import { Empty, ErrorState, Loading, PageHeader } from '../../ui/layout.tsx';

export function AdminAuditPage() {
  const [action, setAction] = useState<AuditAction | ''>('');
  const audit = trpc.admin.audit.list.useInfiniteQuery(
    { action: action || undefined, limit: 50 },
    { getNextPageParam: (page) => page.nextCursor },
  );
  const rows = audit.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every admin action and every credit change not made by a user's own generation."
      />
      <select
        aria-label="Action"
        className={`${inputClass} mb-4 w-auto`}
        value={action}
        onChange={(e) => setAction(e.target.value as AuditAction | '')}
      >
        <option value="">Every action</option>
        {AUDIT_ACTIONS.map((value) => (
          <option key={value} value={value}>
            {value}
          </option>
        ))}
      </select>
      {audit.isPending ? (
        <Loading />
      ) : audit.error ? (
        <ErrorState error={audit.error} />
      ) : rows.length === 0 ? (
        <Empty title="Nothing recorded yet" />
      ) : (
        <div className="overflow-x-auto rounded-2xl bg-white shadow-sm ring-1 ring-slate-200">
          <table className="min-w-full text-sm">
            <tbody className="divide-y divide-slate-100">
              {rows.map((row) => (
                <tr key={row.id}>
                  <td className="whitespace-nowrap px-4 py-2 text-slate-600">
                    {formatDateTime(row.createdAt)}
                  </td>
                  <td className="px-4 py-2 font-mono text-xs">{row.action}</td>
                  <td className="px-4 py-2">
                    {row.actor?.email ?? (row.actorApiKeyId ? 'API key' : 'system')}
                  </td>
                  <td className="px-4 py-2 text-slate-600">
                    {row.targetType}
                    {row.targetId ? ` ${row.targetId.slice(0, 8)}…` : ''}
                  </td>
                  <td
                    className="max-w-md truncate px-4 py-2 font-mono text-xs text-slate-600"
                    title={JSON.stringify(row.metadata)}
                  >
                    {row.metadata ? JSON.stringify(row.metadata) : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {audit.hasNextPage && (
            <div className="p-3 text-center">
              <Button
                variant="secondary"
                busy={audit.isFetchingNextPage}
                onClick={() => audit.fetchNextPage()}
              >
                Load more
              </Button>
            </div>
          )}
        </div>
      )}
    </>
  );
}
