// One user: profile, balance, subscription, ledger, generations, and the actions on them.
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { USER_ROLES, type UserRole } from '../../../../shared/schemas/identity.ts';
import { AdjustCreditsForm } from '../../features/admin/adjust-credits-form.tsx';
import { useStaffRole } from '../../features/admin/use-role.ts';
import { AdminPayments } from '../../features/billing/admin-payments.tsx';
import { AdminStatementCard } from '../../features/credits/statement-card.tsx';
import { formatDateTime, formatSigned, humanize } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm-button.tsx';
import { inputClass } from '../../ui/field.tsx';
import { Card, ErrorState, Loading, PageHeader } from '../../ui/layout.tsx';

function Ledger({ userId }: { userId: string }) {
  const ledger = trpc.admin.credits.transactions.useInfiniteQuery(
    { userId, limit: 20 },
    { getNextPageParam: (page) => page.nextCursor },
  );
  const rows = ledger.data?.pages.flatMap((page) => page.items) ?? [];
  if (ledger.isPending) return <Loading />;
  return (
    <>
      <table className="min-w-full text-sm" data-testid="admin-ledger">
        <tbody className="divide-y divide-slate-100">
          {rows.map((row) => (
            <tr key={row.id}>
              <td className="whitespace-nowrap py-2 pr-4 text-slate-500">{formatDateTime(row.createdAt)}</td>
              <td className="py-2 pr-4">
                <span className="font-medium">{humanize(row.type)}</span>
                {row.description && <span className="ml-2 text-slate-500">{row.description}</span>}
                {row.performedBy && (
                  <span className="ml-2 text-xs text-slate-400">by {row.performedBy.email}</span>
                )}
              </td>
              <td className="py-2 pr-4 text-right font-semibold tabular-nums">{formatSigned(row.amount)}</td>
              <td className="py-2 text-right tabular-nums text-slate-500">{row.balanceAfter}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {ledger.hasNextPage && (
        <Button
          variant="secondary"
          className="mt-3"
          busy={ledger.isFetchingNextPage}
          onClick={() => ledger.fetchNextPage()}
        >
          Load more
        </Button>
      )}
    </>
  );
}

export function AdminUserPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const staff = useStaffRole();
  const utils = trpc.useUtils();
  const user = trpc.admin.users.get.useQuery({ userId: id });
  const [reason, setReason] = useState('');
  const refresh = () => {
    void utils.admin.users.invalidate();
    void utils.admin.audit.list.invalidate();
  };
  const setRole = trpc.admin.users.setRole.useMutation({ onSuccess: refresh });
  const ban = trpc.admin.users.ban.useMutation({ onSuccess: refresh });
  const unban = trpc.admin.users.unban.useMutation({ onSuccess: refresh });
  const deactivate = trpc.admin.users.deactivate.useMutation({ onSuccess: refresh });
  const remove = trpc.admin.users.delete.useMutation({
    onSuccess: () => {
      refresh();
      void navigate('/admin/users');
    },
  });
  const actionError = setRole.error ?? ban.error ?? unban.error ?? deactivate.error ?? remove.error;

  if (user.isPending) return <Loading />;
  if (user.error) return <ErrorState error={user.error} />;
  const u = user.data;
  return (
    <>
      <PageHeader title={u.name} description={`${u.email} · ${humanize(u.role)} · ${humanize(u.status)}`} />
      <div className="grid gap-6 lg:grid-cols-[1fr_20rem]">
        <div className="space-y-6">
          <Card title="Ledger">
            <p className="mb-3 text-sm text-slate-600">
              Balance <strong data-testid="admin-balance">{u.balance.balance}</strong> · used{' '}
              {u.balance.totalUsed} · {u.generations} generations · {u.activeSessions} active sessions
            </p>
            <Ledger userId={u.id} />
          </Card>
          <Card title="Subscription">
            <p className="text-sm text-slate-700">
              {u.subscription
                ? `${u.subscription.plan?.name ?? 'Plan'} — ${humanize(u.subscription.status)}${u.subscription.cancelAtPeriodEnd ? ' (ends at period end)' : ''}`
                : 'None'}
            </p>
          </Card>
          <Card title="Payments">
            <AdminPayments userId={u.id} />
          </Card>
          <AdminStatementCard userId={u.id} email={u.email} />
        </div>
        {staff.canWrite && (
          <div className="space-y-6">
            <Card title="Adjust credits">
              <AdjustCreditsForm userId={u.id} />
            </Card>
            <Card title="Account">
              <label className="block text-sm font-medium text-slate-800" htmlFor="role">
                Role
              </label>
              <select
                id="role"
                className={`${inputClass} mt-1`}
                value={u.role}
                onChange={(e) => setRole.mutate({ userId: u.id, role: e.target.value as UserRole })}
              >
                {USER_ROLES.map((value) => (
                  <option key={value} value={value}>
                    {humanize(value)}
                  </option>
                ))}
              </select>
              <div className="mt-4 space-y-2">
                {u.status === 'banned' ? (
                  <Button
                    variant="secondary"
                    className="w-full"
                    busy={unban.isPending}
                    onClick={() => unban.mutate({ userId: u.id })}
                  >
                    Unban
                  </Button>
                ) : (
                  <div className="flex gap-2">
                    <input
                      aria-label="Ban reason"
                      placeholder="Reason to ban"
                      className={inputClass}
                      value={reason}
                      onChange={(e) => setReason(e.target.value)}
                    />
                    <Button
                      variant="danger"
                      disabled={reason.trim().length < 3}
                      busy={ban.isPending}
                      onClick={() => ban.mutate({ userId: u.id, reason })}
                    >
                      Ban
                    </Button>
                  </div>
                )}
                {u.status === 'active' && (
                  <Button
                    variant="secondary"
                    className="w-full"
                    busy={deactivate.isPending}
                    onClick={() => deactivate.mutate({ userId: u.id })}
                  >
                    Deactivate
                  </Button>
                )}
                <ConfirmButton
                  label="Delete user"
                  variant="danger"
                  title={`Delete ${u.email}?`}
                  description="Their account, sessions, generations and files are removed for good. Ledger rows and payments stay, without the user."
                  confirmLabel="Delete for good"
                  busy={remove.isPending}
                  onConfirm={() => remove.mutate({ userId: u.id })}
                />
              </div>
              {actionError && (
                <p role="alert" className="mt-3 text-sm text-red-600">
                  {actionError.message}
                </p>
              )}
            </Card>
          </div>
        )}
      </div>
    </>
  );
}
