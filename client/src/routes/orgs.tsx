// Organizations: switch between yours (or create one), then its members, invitations and features
// board. What a role may do is decided by the server; the page only hides what would be refused.
import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useSearchParams } from 'react-router';
import type { z } from 'zod';
import {
  createFeatureInput,
  createInvitationInput,
  createOrgInput,
  MEMBERSHIP_ROLES,
  type MembershipRole,
} from '../../../shared/schemas/orgs.ts';
import { formatDate } from '../lib/format.ts';
import { trpc } from '../lib/trpc.ts';
import { Button } from '../ui/button.tsx';
import { ConfirmButton } from '../ui/confirm-button.tsx';
import { Field, FormError, Input, inputClass } from '../ui/field.tsx';
import { applyServerErrors } from '../ui/form.ts';
import { Card, Empty, ErrorState, Loading, PageHeader } from '../ui/layout.tsx';

const RANK: Record<MembershipRole, number> = { member: 0, admin: 1, owner: 2 };

export function OrgsPage() {
  const orgs = trpc.orgs.list.useQuery();
  const [params, setParams] = useSearchParams();
  const selectedId = params.get('org') ?? orgs.data?.[0]?.id ?? null;
  const selected = orgs.data?.find((org) => org.id === selectedId) ?? null;
  return (
    <>
      <PageHeader
        title="Organizations"
        description="Work together: members with roles, invitations by email, and a shared features board."
        actions={
          orgs.data && orgs.data.length > 0 ? (
            <label className="flex items-center gap-2 text-sm">
              <span className="text-slate-600">Organization</span>
              <select
                aria-label="Switch organization"
                className={inputClass}
                value={selectedId ?? ''}
                onChange={(event) => setParams({ org: event.target.value })}
              >
                {orgs.data.map((org) => (
                  <option key={org.id} value={org.id}>
                    {org.name}
                  </option>
                ))}
              </select>
            </label>
          ) : undefined
        }
      />
      {orgs.isPending ? (
        <Loading />
      ) : orgs.isError ? (
        <ErrorState error={orgs.error} retry={() => orgs.refetch()} />
      ) : (
        <div className="grid gap-6 lg:grid-cols-[1fr_20rem]">
          <div className="space-y-6">
            {selected ? (
              <>
                <MembersCard orgId={selected.id} role={selected.role} />
                {RANK[selected.role] >= RANK.admin && (
                  <InvitationsCard orgId={selected.id} role={selected.role} />
                )}
                <FeaturesCard orgId={selected.id} role={selected.role} />
              </>
            ) : (
              <Empty title="No organization yet">Create one to invite people and share projects.</Empty>
            )}
          </div>
          <CreateOrgCard onCreated={(id) => setParams({ org: id })} />
        </div>
      )}
    </>
  );
}

function CreateOrgCard({ onCreated }: { onCreated: (id: string) => void }) {
  const utils = trpc.useUtils();
  const form = useForm<z.input<typeof createOrgInput>>({
    resolver: zodResolver(createOrgInput),
    defaultValues: { name: '' },
  });
  const create = trpc.orgs.create.useMutation({
    onSuccess: async (org) => {
      form.reset();
      await utils.orgs.list.invalidate();
      onCreated(org.id);
    },
    onError: (error) => applyServerErrors(error, form.setError, ['name', 'slug']),
  });
  const { errors } = form.formState;
  return (
    <Card title="New organization">
      <form noValidate className="space-y-4" onSubmit={form.handleSubmit((values) => create.mutate(values))}>
        <Field label="Organization name" error={errors.name?.message}>
          {(control) => <Input {...control} {...form.register('name')} />}
        </Field>
        <Field
          label="Address (optional)"
          error={errors.slug?.message}
          hint="Lowercase letters, digits and dashes"
        >
          {(control) => (
            <Input {...control} {...form.register('slug', { setValueAs: (v) => v || undefined })} />
          )}
        </Field>
        <FormError message={errors.root?.server?.message} />
        <Button type="submit" className="w-full" busy={create.isPending}>
          Create organization
        </Button>
      </form>
    </Card>
  );
}

function MembersCard({ orgId, role }: { orgId: string; role: MembershipRole }) {
  const members = trpc.orgs.members.list.useQuery({ organizationId: orgId });
  const utils = trpc.useUtils();
  const [error, setError] = useState<string | null>(null);
  const changed = {
    onSuccess: () => utils.orgs.invalidate(),
    onError: (e: { message: string }) => setError(e.message),
  };
  const setRole = trpc.orgs.members.setRole.useMutation(changed);
  const remove = trpc.orgs.members.remove.useMutation(changed);
  const leave = trpc.orgs.leave.useMutation(changed);
  const canManage = RANK[role] >= RANK.admin;
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
        <p role="alert" className="mb-3 text-sm text-red-600">
          {error}
        </p>
      )}
      {members.isPending ? (
        <Loading />
      ) : members.isError ? (
        <ErrorState error={members.error} />
      ) : (
        <ul className="divide-y divide-slate-100" aria-label="Members">
          {members.data.map((member) => (
            <li
              key={member.userId}
              className="flex flex-wrap items-center justify-between gap-3 py-3 text-sm"
            >
              <div>
                <p className="font-medium text-slate-800">{member.name}</p>
                <p className="text-xs text-slate-500">
                  {member.email} · joined {formatDate(member.joinedAt)}
                </p>
              </div>
              <div className="flex items-center gap-2">
                {canManage && (role === 'owner' || member.role !== 'owner') ? (
                  <select
                    aria-label={`Role of ${member.name}`}
                    className={inputClass}
                    value={member.role}
                    onChange={(event) => {
                      setError(null);
                      setRole.mutate({
                        organizationId: orgId,
                        userId: member.userId,
                        role: event.target.value as MembershipRole,
                      });
                    }}
                  >
                    {MEMBERSHIP_ROLES.filter((r) => role === 'owner' || r !== 'owner').map((r) => (
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
                {canManage && (role === 'owner' || member.role !== 'owner') && (
                  <ConfirmButton
                    label="Remove"
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
    </Card>
  );
}

function InvitationsCard({ orgId, role }: { orgId: string; role: MembershipRole }) {
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
        <Field label="Invite by email" error={errors.email?.message}>
          {(control) => <Input {...control} type="email" {...form.register('email')} />}
        </Field>
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
      {invitations.isPending ? (
        <Loading />
      ) : invitations.isError ? (
        <ErrorState error={invitations.error} />
      ) : invitations.data.length === 0 ? (
        <Empty title="No invitations yet" />
      ) : (
        <ul className="divide-y divide-slate-100" aria-label="Invitations">
          {invitations.data.map((invitation) => (
            <li key={invitation.id} className="flex items-center justify-between gap-3 py-2 text-sm">
              <span>
                {invitation.email}{' '}
                <span className="text-xs text-slate-500">
                  · {invitation.role} · {invitation.status}
                </span>
              </span>
              {invitation.status === 'pending' && (
                <Button
                  variant="ghost"
                  onClick={() => revoke.mutate({ organizationId: orgId, invitationId: invitation.id })}
                >
                  Revoke
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function FeaturesCard({ orgId, role }: { orgId: string; role: MembershipRole }) {
  const [tags, setTags] = useState<string[]>([]);
  const [search, setSearch] = useState('');
  const features = trpc.orgs.features.list.useInfiniteQuery(
    { organizationId: orgId, tags: tags.length ? tags : undefined, search: search || undefined, limit: 30 },
    { getNextPageParam: (page) => page.nextCursor },
  );
  const utils = trpc.useUtils();
  const form = useForm<{ name: string; description: string; tags: string }>({
    defaultValues: { name: '', description: '', tags: '' },
  });
  const create = trpc.orgs.features.create.useMutation({
    onSuccess: async () => {
      form.reset();
      await utils.orgs.features.list.invalidate();
    },
    onError: (error) => applyServerErrors(error, form.setError, ['name', 'description', 'tags']),
  });
  const remove = trpc.orgs.features.remove.useMutation({
    onSuccess: () => utils.orgs.features.list.invalidate(),
  });
  const allTags = features.data?.pages[0]?.allTags ?? [];
  const items = features.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <Card title="Features board">
      <form
        noValidate
        className="mb-4 grid gap-3 sm:grid-cols-2"
        onSubmit={form.handleSubmit((values) => {
          const parsed = createFeatureInput.safeParse({
            name: values.name,
            description: values.description || null,
            tags: values.tags
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean),
          });
          if (!parsed.success)
            return void form.setError('name', { message: parsed.error.issues[0]?.message ?? 'Invalid' });
          create.mutate({ organizationId: orgId, ...parsed.data });
        })}
      >
        <Field label="Feature" error={form.formState.errors.name?.message}>
          {(control) => <Input {...control} {...form.register('name')} />}
        </Field>
        <Field label="Tags" hint="Comma-separated" error={form.formState.errors.tags?.message}>
          {(control) => <Input {...control} {...form.register('tags')} />}
        </Field>
        <div className="sm:col-span-2">
          <Field label="Description" error={form.formState.errors.description?.message}>
            {(control) => <Input {...control} {...form.register('description')} />}
          </Field>
        </div>
        <Button type="submit" busy={create.isPending} className="sm:col-span-2">
          Add feature
        </Button>
      </form>
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <Input
          aria-label="Search features"
          placeholder="Search…"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        {allTags.map((tag) => (
          <button
            type="button"
            key={tag}
            aria-pressed={tags.includes(tag)}
            onClick={() =>
              setTags((current) =>
                current.includes(tag) ? current.filter((t) => t !== tag) : [...current, tag],
              )
            }
            className={`rounded-full px-2.5 py-1 text-xs font-medium ring-1 ${tags.includes(tag) ? 'bg-indigo-600 text-white ring-indigo-600' : 'bg-white text-slate-700 ring-slate-300'}`}
          >
            #{tag}
          </button>
        ))}
      </div>
      {features.isPending ? (
        <Loading />
      ) : features.isError ? (
        <ErrorState error={features.error} />
      ) : items.length === 0 ? (
        <Empty title="No features match" />
      ) : (
        <ul className="grid gap-3 sm:grid-cols-2" aria-label="Features">
          {items.map((feature) => (
            <li key={feature.id} className="rounded-xl p-3 ring-1 ring-slate-200">
              <div className="flex items-start justify-between gap-2">
                <p className="font-medium text-slate-800">{feature.name}</p>
                {RANK[role] >= RANK.admin && (
                  <Button
                    variant="ghost"
                    onClick={() => remove.mutate({ organizationId: orgId, featureId: feature.id })}
                  >
                    Remove
                  </Button>
                )}
              </div>
              {feature.description && <p className="text-sm text-slate-600">{feature.description}</p>}
              <p className="mt-1 flex flex-wrap gap-1">
                {feature.tags.map((tag) => (
                  <span key={tag} className="rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-600">
                    #{tag}
                  </span>
                ))}
              </p>
            </li>
          ))}
        </ul>
      )}
      {features.hasNextPage && (
        <Button
          variant="secondary"
          className="mt-3"
          busy={features.isFetchingNextPage}
          onClick={() => features.fetchNextPage()}
        >
          Load more
        </Button>
      )}
    </Card>
  );
}
