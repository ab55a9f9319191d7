// One user: profile, balance, subscription, ledger, generations, and the actions on them.
import { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { USER_ROLES, type UserRole } from '../../../../shared/schemas/identity.ts';
import { AdjustCreditsForm } from '../../features/admin/adjust-credits-form.tsx';
import { useStaffRole } from '../../features/admin/use-role.ts';
import { AdminPayments } from '../../features/billing/admin-payments.tsx';
import { LedgerTable } from '../../features/credits/ledger-table.tsx';
import { AdminStatementCard } from '../../features/credits/statement-card.tsx';
import { formatCount, formatNumber, humanize } from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton, ConfirmDialog } from '../../ui/confirm-button.tsx';
import { Field, inputClass } from '../../ui/field.tsx';
import { Card, ErrorState, PageHeader } from '../../ui/layout.tsx';
import { LoadMore } from '../../ui/load-more.tsx';
import { QueryState } from '../../ui/query-state.tsx';
import { SkeletonPage, SkeletonRows } from '../../ui/skeleton.tsx';

function Ledger({ userId }: { userId: string }) {
  const ledger = trpc.admin.credits.transactions.useInfiniteQuery(
    { userId, limit: 20 },
    { getNextPageParam: (page) => page.nextCursor },
  );
  return (
    <QueryState query={ledger} skeleton={<SkeletonRows label="Loading the ledger" />}>
      {(data) => (
        <>
          <LedgerTable rows={data.pages.flatMap((page) => page.items)} label="Ledger" testId="admin-ledger" />
          <LoadMore query={ledger} />
        </>
      )}
    </QueryState>
  );
}

export function AdminUserPage() {
  const { id = '' } = useParams();
  const staff = useStaffRole();
  const utils = trpc.useUtils();
  const user = trpc.admin.users.get.useQuery({ userId: id });
  const refresh = () => {
    void utils.admin.users.invalidate();
    void utils.admin.audit.list.invalidate();
  };

  if (user.isPending) return <SkeletonPage label="Loading the user" />;
  if (user.error) return <ErrorState error={user.error} retry={() => user.refetch()} />;
  const u = user.data;
  return (
    <>
      <PageHeader title={u.name} description={`${u.email} · ${humanize(u.role)} · ${humanize(u.status)}`} />
      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
        <div className="min-w-0 space-y-6">
          <Card title="Ledger">
            <p className="mb-3 text-sm text-slate-600">
              Balance <strong data-testid="admin-balance">{formatNumber(u.balance.balance)}</strong>
              {u.balance.held > 0 && ` (${formatNumber(u.balance.held)} held by generations in progress)`} ·
              used {formatNumber(u.balance.totalUsed)} · {formatCount(u.generations, 'generation')} ·{' '}
              {formatCount(u.activeSessions, 'active session')}
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
              <AccountActions user={u} onDone={refresh} />
            </Card>
          </div>
        )}
      </div>
    </>
  );
}

type AdminUser = RouterOutputs['admin']['users']['get'];

/**
 * Role, ban, deactivation and deletion. Nothing happens on a change of the select: the new role
 * is saved by a button, after a confirmation that says what the role may do.
 */
function AccountActions({ user, onDone }: { user: AdminUser; onDone: () => void }) {
  const navigate = useNavigate();
  const [role, setRoleChoice] = useState<UserRole>(user.role);
  const [confirmRole, setConfirmRole] = useState(false);
  const [reason, setReason] = useState('');
  const setRole = trpc.admin.users.setRole.useMutation({ onSuccess: onDone });
  const ban = trpc.admin.users.ban.useMutation({ onSuccess: onDone });
  const unban = trpc.admin.users.unban.useMutation({ onSuccess: onDone });
  const deactivate = trpc.admin.users.deactivate.useMutation({ onSuccess: onDone });
  const remove = trpc.admin.users.delete.useMutation({
    onSuccess: () => {
      onDone();
      void navigate('/admin/users');
    },
  });
  const actionError = setRole.error ?? ban.error ?? unban.error ?? deactivate.error ?? remove.error;
  // A saved role (or one changed elsewhere) becomes the select's value again.
  useEffect(() => setRoleChoice(user.role), [user.role]);
  return (
    <>
      <form
        className="flex items-end gap-2"
        onSubmit={(event) => {
          event.preventDefault();
          if (role !== user.role) setConfirmRole(true);
        }}
      >
        <div className="min-w-0 flex-1">
          <Field label="Role">
            {(control) => (
              <select
                {...control}
                className={inputClass}
                value={role}
                onChange={(e) => setRoleChoice(e.target.value as UserRole)}
              >
                {USER_ROLES.map((value) => (
                  <option key={value} value={value}>
                    {humanize(value)}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <Button type="submit" variant="secondary" disabled={role === user.role} busy={setRole.isPending}>
          Save role
        </Button>
      </form>
      <ConfirmDialog
        open={confirmRole}
        tone="primary"
        title={`Make ${user.email} ${humanize(role).toLowerCase() === 'user' ? 'a user' : `${/^[aeiou]/i.test(role) ? 'an' : 'a'} ${humanize(role).toLowerCase()}`}?`}
        description={ROLE_HELP[role]}
        confirmLabel="Change role"
        onCancel={() => {
          setConfirmRole(false);
          setRoleChoice(user.role);
        }}
        onConfirm={() => {
          setConfirmRole(false);
          setRole.mutate({ userId: user.id, role });
        }}
      />
      <div className="mt-5 space-y-2 border-t border-slate-100 pt-4">
        {user.status === 'banned' ? (
          <Button
            variant="secondary"
            className="w-full"
            busy={unban.isPending}
            onClick={() => unban.mutate({ userId: user.id })}
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
            {reason.trim().length < 3 ? (
              <Button variant="danger" disabled>
                Ban
              </Button>
            ) : (
              <ConfirmButton
                label="Ban"
                variant="danger"
                title={`Ban ${user.email}?`}
                description={`They are signed out everywhere and cannot sign in until unbanned. Reason: “${reason.trim()}”.`}
                confirmLabel="Ban"
                busy={ban.isPending}
                onConfirm={() => ban.mutate({ userId: user.id, reason })}
              />
            )}
          </div>
        )}
        {user.status === 'active' && (
          <ConfirmButton
            label="Deactivate"
            variant="secondary"
            className="w-full"
            title={`Deactivate ${user.email}?`}
            description="They are signed out everywhere and the account is closed. Their ledger and payments stay."
            confirmLabel="Deactivate"
            busy={deactivate.isPending}
            onConfirm={() => deactivate.mutate({ userId: user.id })}
          />
        )}
        <ConfirmButton
          label="Delete user"
          variant="danger"
          className="w-full"
          title={`Delete ${user.email}?`}
          description="Their account, sessions, generations and files are removed for good. Ledger rows and payments stay, without the user."
          confirmLabel="Delete for good"
          busy={remove.isPending}
          onConfirm={() => remove.mutate({ userId: user.id })}
        />
      </div>
      {actionError && (
        <p role="alert" className="mt-3 text-sm text-red-700">
          {actionError.message}
        </p>
      )}
    </>
  );
}

const ROLE_HELP: Record<UserRole, string> = {
  user: 'An ordinary account: no access to the admin area.',
  moderator: 'Reads the admin area — users, ledgers, audit log — but changes nothing.',
  admin: 'Full admin rights: adjusts credits, bans, edits plans, packages and settings.',
  super_admin: 'Everything an admin can do, including managing other administrators.',
};
