// Invitations by email: invite with a role, see pending and settled ones, revoke (after asking).
import { useForm } from 'react-hook-form';
import type { z } from 'zod';
import {
  createInvitationInput,
  MEMBERSHIP_ROLES,
  type MembershipRole,
} from '../../../../shared/schemas/orgs.ts';
import { trpc } from '../../lib/trpc.ts';
import { zodResolver } from '../../lib/zod-form.ts';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm-button.tsx';
import { Field, FormError, FormField, inputClass } from '../../ui/field.tsx';
import { applyServerErrors } from '../../ui/form.ts';
import { Card, Empty } from '../../ui/layout.tsx';
import { QueryState } from '../../ui/query-state.tsx';
import { SkeletonRows } from '../../ui/skeleton.tsx';

export function InvitationsCard({ orgId, role }: { orgId: string; role: MembershipRole }) {
  const invitations = trpc.orgs.invitations.list.useQuery({ organizationId: orgId });
  const utils = trpc.useUtils();
  const form = useForm<z.input<typeof createInvitationInput>>({
    resolver: zodResolver(createInvitationInput),
    defaultValues: { email: '', role: 'member' },
  });
  const invite = trpc.orgs.invitations.create.useMutation({
    onSuccess: async () => {
      form.reset({ email: '', role: 'member' });
      await utils.orgs.invitations.list.invalidate({ organizationId: orgId });
    },
    onError: (error) => applyServerErrors(error, form.setError, ['email', 'role']),
  });
  const revoke = trpc.orgs.invitations.revoke.useMutation({
    onSuccess: () => utils.orgs.invitations.list.invalidate({ organizationId: orgId }),
  });
  const { errors } = form.formState;
  return (
    <Card title="Invitations">
      <form
        noValidate
        className="mb-4 grid gap-3 sm:grid-cols-[1fr_8rem_auto] sm:items-end"
        onSubmit={form.handleSubmit((values) => invite.mutate({ ...values, organizationId: orgId }))}
      >
        <FormField form={form} name="email" label="Invite by email" type="email" />
        <Field label="Role" error={errors.role?.message}>
          {(control) => (
            <select {...control} className={inputClass} {...form.register('role')}>
              {MEMBERSHIP_ROLES.filter((r) => role === 'owner' || r !== 'owner').map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Button type="submit" busy={invite.isPending}>
          Invite
        </Button>
      </form>
      <FormError message={errors.root?.server?.message} />
      <QueryState
        query={invitations}
        skeleton={<SkeletonRows rows={2} label="Loading invitations" />}
        isEmpty={(data) => data.length === 0}
        empty={<Empty title="No invitations yet" />}
      >
        {(data) => (
          <ul className="divide-y divide-slate-100" aria-label="Invitations">
            {data.map((invitation) => (
              <li
                key={invitation.id}
                className="flex flex-wrap items-center justify-between gap-3 py-2 text-sm"
              >
                <span className="min-w-0 break-all">
                  {invitation.email}{' '}
                  <span className="text-xs text-slate-600">
                    · {invitation.role} · {invitation.status}
                  </span>
                </span>
                {invitation.status === 'pending' && (
                  <ConfirmButton
                    label="Revoke"
                    aria-label={`Revoke the invitation of ${invitation.email}`}
                    title={`Revoke the invitation of ${invitation.email}?`}
                    description="The link in their email stops working. You can invite them again later."
                    confirmLabel="Revoke"
                    onConfirm={() => revoke.mutate({ organizationId: orgId, invitationId: invitation.id })}
                  />
                )}
              </li>
            ))}
          </ul>
        )}
      </QueryState>
    </Card>
  );
}
