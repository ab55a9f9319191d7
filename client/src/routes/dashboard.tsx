import { Link } from 'react-router';
import { BalanceCard } from '../features/credits/balance-card.tsx';
import { StatementCard } from '../features/credits/statement-card.tsx';
import { TransactionHistory } from '../features/credits/transaction-history.tsx';
import { UsageCard } from '../features/credits/usage-card.tsx';
import { titleOf } from '../features/generations/generation-card.tsx';
import { StatusBadge } from '../features/generations/status-badge.tsx';
import { useMe } from '../features/identity/use-session.ts';
import { formatRelative } from '../lib/format.ts';
import { trpc } from '../lib/trpc.ts';
import { Card, Empty, PageHeader } from '../ui/layout.tsx';
import { LinkButton, TextLink } from '../ui/link-button.tsx';
import { QueryState } from '../ui/query-state.tsx';
import { SkeletonRows } from '../ui/skeleton.tsx';

function RecentGenerations() {
  const recent = trpc.generations.list.useQuery({ limit: 6 });
  return (
    <Card title="Recent generations" actions={<TextLink to="/history">View all</TextLink>}>
      <QueryState
        query={recent}
        skeleton={<SkeletonRows rows={4} label="Loading recent generations" />}
        isEmpty={(data) => data.items.length === 0}
        empty={
          <Empty title="Nothing generated yet">
            <TextLink to="/generate">Generate your first logo</TextLink>
          </Empty>
        }
      >
        {(data) => (
          <ul className="divide-y divide-slate-100">
            {data.items.map((generation) => (
              <li key={generation.id}>
                <Link
                  to={`/history/${generation.id}`}
                  className="-mx-2 flex items-center gap-3 rounded-lg px-2 py-2 hover:bg-slate-50"
                >
                  <span className="flex size-10 shrink-0 items-center justify-center overflow-hidden rounded-lg bg-slate-50 ring-1 ring-slate-200">
                    {generation.images[0] && (
                      <img src={generation.images[0].url} alt="" className="size-full object-contain p-0.5" />
                    )}
                  </span>
                  <span className="min-w-0 flex-1">
                    <span className="block truncate text-sm font-medium text-slate-900">
                      {titleOf(generation)}
                    </span>
                    <span className="block text-xs text-slate-600">
                      {formatRelative(generation.createdAt)}
                    </span>
                  </span>
                  <StatusBadge status={generation.status} />
                </Link>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
    </Card>
  );
}

export function DashboardPage() {
  const me = useMe();
  return (
    <>
      <PageHeader
        title="Dashboard"
        description={
          me.data
            ? `Welcome back, ${me.data.name}. Your credits, what you spent them on, and what you made.`
            : undefined
        }
        actions={<LinkButton to="/generate">New logo</LinkButton>}
      />
      <div className="grid gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <div className="min-w-0 space-y-6">
          <BalanceCard />
          <UsageCard />
        </div>
        <div className="min-w-0 space-y-6">
          <RecentGenerations />
        </div>
      </div>
      <div className="mt-6 space-y-6">
        <TransactionHistory />
        <StatementCard />
      </div>
    </>
  );
}
