// Organizations: switch between yours (or create one), then its members, invitations and features
// board. What a role may do is decided by the server; the page only hides what would be refused.
import { useSearchParams } from 'react-router';
import { CreateOrgCard } from '../features/orgs/create-org-card.tsx';
import { FeaturesCard } from '../features/orgs/features-card.tsx';
import { InvitationsCard } from '../features/orgs/invitations-card.tsx';
import { MembersCard } from '../features/orgs/members-card.tsx';
import { atLeast } from '../features/orgs/roles.ts';
import { trpc } from '../lib/trpc.ts';
import { inputClass } from '../ui/field.tsx';
import { Empty, PageHeader } from '../ui/layout.tsx';
import { QueryState } from '../ui/query-state.tsx';
import { SkeletonPage } from '../ui/skeleton.tsx';

export function OrgsPage() {
  const orgs = trpc.orgs.list.useQuery();
  const [params, setParams] = useSearchParams();
  const selectedId = params.get('org') ?? orgs.data?.[0]?.id ?? null;
  const selected = orgs.data?.find((org) => org.id === selectedId) ?? null;
  return (
    <>
      <PageHeader
        title="Teams"
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
      <QueryState query={orgs} skeleton={<SkeletonPage label="Loading your organizations" />}>
        {() => (
          <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
            <div className="min-w-0 space-y-6">
              {selected ? (
                <>
                  <MembersCard orgId={selected.id} role={selected.role} />
                  {atLeast(selected.role, 'admin') && (
                    <InvitationsCard orgId={selected.id} role={selected.role} />
                  )}
                  <FeaturesCard orgId={selected.id} role={selected.role} />
                </>
              ) : (
                <Empty title="No organization yet">
                  Create one to invite people and share projects. Invited by someone? Open the link in their
                  email.
                </Empty>
              )}
            </div>
            <CreateOrgCard onCreated={(id) => setParams({ org: id })} />
          </div>
        )}
      </QueryState>
    </>
  );
}
