// Members and their roles. Changing a role or removing someone asks first: a select never saves
// on its own (arrow keys move through options and fire a change each).
import { useState } from 'react';
import { MEMBERSHIP_ROLES, type MembershipRole } from '../../../../shared/schemas/orgs.ts';
import { formatDate } from '../../lib/format.ts';
import { type RouterOutputs, trpc } from '../../lib/trpc.ts';
import { ConfirmButton, ConfirmDialog } from '../../ui/confirm-button.tsx';
import { inputClass } from '../../ui/field.tsx';
import { Card } from '../../ui/layout.tsx';
import { QueryState } from '../../ui/query-state.tsx';
import { SkeletonRows } from '../../ui/skeleton.tsx';
import { atLeast } from './roles.ts';

type Member = RouterOutputs['orgs']['members']['list'][number];

export function MembersCard({ orgId, role }: { orgId: string; role: MembershipRole }) {
  const members = trpc.orgs.members.list.useQuery({ organizationId: orgId });
  const utils = trpc.useUtils();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState<{ member: Member; role: MembershipRole } | null>(null);
  const changed = {
    onSuccess: () => utils.orgs.invalidate(),
    onError: (e: { message: string }) => setError(e.message),
  };
  const setRole = trpc.orgs.members.setRole.useMutation(changed);
  const remove = trpc.orgs.members.remove.useMutation(changed);
  const leave = trpc.orgs.leave.useMutation(changed);
  const canManage = (member: Member) =>
    atLeast(role, 'admin') && (role === 'owner' || member.role !== 'owner');
  const roles = MEMBERSHIP_ROLES.filter((r) => role === 'owner' || r !== 'owner');
  return (
    <Card
      title="Members"
      actions={
        <ConfirmButton
          label="Leave"
          title="Leave this organization?"
          description="You lose access to its projects and features until someone invites you again."
          confirmLabel="Leave"
          busy={leave.isPending}
          onConfirm={() => leave.mutate({ organizationId: orgId })}
        />
      }
    >
      {error && (
        <p role="alert" className="mb-3 text-sm text-red-700">
          {error}
        </p>
      )}
      <QueryState query={members} skeleton={<SkeletonRows rows={3} label="Loading members" />}>
        {(data) => (
          <ul className="divide-y divide-slate-100" aria-label="Members">
            {data.map((member) => (
              <li
                key={member.userId}
                className="flex flex-wrap items-center justify-between gap-3 py-3 text-sm"
              >
                <div className="min-w-0">
                  <p className="font-medium text-slate-800">{member.name}</p>
                  <p className="truncate text-xs text-slate-600">
                    {member.email} · joined {formatDate(member.joinedAt)}
                  </p>
                </div>
                <div className="flex items-center gap-2">
                  {canManage(member) ? (
                    <select
                      aria-label={`Role of ${member.name}`}
                      className={`${inputClass} w-auto`}
                      value={pending?.member.userId === member.userId ? pending.role : member.role}
                      onChange={(event) => {
                        setError(null);
                        const next = event.target.value as MembershipRole;
                        if (next !== member.role) setPending({ member, role: next });
                      }}
                    >
                      {roles.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                  ) : (
                    <span className="rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-700">
                      {member.role}
                    </span>
                  )}
                  {canManage(member) && (
                    <ConfirmButton
                      label="Remove"
                      aria-label={`Remove ${member.name}`}
                      title={`Remove ${member.name}?`}
                      description="They lose access to this organization at once."
                      confirmLabel="Remove"
                      onConfirm={() => remove.mutate({ organizationId: orgId, userId: member.userId })}
                    />
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
      <ConfirmDialog
        open={pending !== null}
        tone="primary"
        title={
          pending
            ? `Make ${pending.member.name} ${pending.role === 'admin' ? 'an' : 'a'} ${pending.role}?`
            : ''
        }
        description={
          pending?.role === 'owner'
            ? 'Owners can do everything, including deleting the organization.'
            : pending?.role === 'admin'
              ? 'Admins can invite and remove members and manage the features board.'
              : 'Members can use the organization’s projects and features.'
        }
        confirmLabel="Change role"
        onCancel={() => setPending(null)}
        onConfirm={() => {
          if (pending)
            setRole.mutate({ organizationId: orgId, userId: pending.member.userId, role: pending.role });
          setPending(null);
        }}
      />
    </Card>
  );
}
