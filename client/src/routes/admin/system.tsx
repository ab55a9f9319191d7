import { useStaffRole } from '../../features/admin/use-role.ts';
import { formatBytes } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { Card, ErrorState, Loading, PageHeader } from '../../ui/layout.tsx';

export function AdminSystemPage() {
  const staff = useStaffRole();
  const health = trpc.admin.system.health.useQuery();
  const retention = trpc.admin.retention.run.useMutation({ onSuccess: () => health.refetch() });
  if (health.isPending) return <Loading />;
  if (health.error) return <ErrorState error={health.error} retry={() => health.refetch()} />;
  const h = health.data;
  return (
    <>
      <PageHeader
        title="System"
        description={`${h.database.name} · ${formatBytes(h.database.bytes)} · ${h.database.version.split(' on ')[0]}`}
        actions={
          staff.canWrite ? (
            <Button variant="secondary" busy={retention.isPending} onClick={() => retention.mutate()}>
              Run retention now
            </Button>
          ) : undefined
        }
      />
      {retention.data && (
        <p role="status" className="mb-4 break-all text-sm text-emerald-700">
          Retention: {JSON.stringify(retention.data)}
        </p>
      )}
      <div className="grid gap-6 lg:grid-cols-2 [&>*]:min-w-0">
        <Card title="Largest tables">
          <table className="w-full table-fixed text-sm">
            <tbody className="divide-y divide-slate-100">
              {h.tables.slice(0, 12).map((t) => (
                <tr key={t.name}>
                  <td className="break-all py-1.5 pr-2 font-mono text-xs">{t.name}</td>
                  <td className="w-28 py-1.5 text-right tabular-nums">{t.rows.toLocaleString()} rows</td>
                  <td className="w-20 py-1.5 text-right tabular-nums text-slate-600">
                    {formatBytes(t.bytes)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
        <Card title="Job queue">
          {h.queue.length === 0 ? (
            <p className="text-sm text-slate-600">Empty.</p>
          ) : (
            <table className="w-full table-fixed text-sm">
              <tbody className="divide-y divide-slate-100">
                {h.queue.map((q) => (
                  <tr key={`${q.name}-${q.state}`}>
                    <td className="break-all py-1.5 pr-2 font-mono text-xs">{q.name}</td>
                    <td className="w-24 py-1.5">{q.state}</td>
                    <td className="w-16 py-1.5 text-right tabular-nums">{q.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p className="mt-3 text-sm text-slate-600">
            Connections:{' '}
            {Object.entries(h.connections)
              .map(([state, n]) => `${n} ${state}`)
              .join(', ')}
          </p>
          {h.failedJobs.length > 0 && (
            <p className="mt-2 text-sm text-red-700">{h.failedJobs.length} recently failed jobs</p>
          )}
        </Card>
        <Card title="Least-used indexes">
          <table className="w-full table-fixed text-sm">
            <tbody className="divide-y divide-slate-100">
              {h.indexes.slice(0, 12).map((i) => (
                <tr key={i.name}>
                  <td className="break-all py-1.5 pr-2 font-mono text-xs">{i.name}</td>
                  <td className="w-24 py-1.5 text-right tabular-nums">{i.scans} scans</td>
                  <td className="w-20 py-1.5 text-right text-slate-600">{formatBytes(i.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
        <Card title="Slowest statements">
          {h.slowQueries === null ? (
            <p className="text-sm text-slate-600">pg_stat_statements is not loaded on this database.</p>
          ) : (
            <ul className="space-y-2 text-xs">
              {h.slowQueries.map((q) => (
                <li key={q.query}>
                  <span className="font-semibold">{q.meanMs} ms</span> × {q.calls}{' '}
                  <code className="block truncate text-slate-600">{q.query}</code>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </>
  );
}
