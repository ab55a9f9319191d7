import { Link } from 'react-router';
import { BalanceCard } from '../features/credits/balance-card.tsx';
import { StatementCard } from '../features/credits/statement-card.tsx';
import { TransactionHistory } from '../features/credits/transaction-history.tsx';
import { GenerationCard } from '../features/generations/generation-card.tsx';
import { useMe } from '../features/identity/use-session.ts';
import { trpc } from '../lib/trpc.ts';
import { Card, Empty, Loading, PageHeader } from '../ui/layout.tsx';

function RecentGenerations() {
  const recent = trpc.generations.list.useQuery({ limit: 3 });
  return (
    <Card
      title="Recent generations"
      actions={
        <Link to="/history" className="text-sm font-semibold text-indigo-700 hover:underline">
          View all
        </Link>
      }
    >
      {recent.isPending ? (
        <Loading />
      ) : !recent.data?.items.length ? (
        <Empty title="Nothing generated yet">
          <Link to="/generate" className="font-semibold text-indigo-700 hover:underline">
            Generate your first logo
          </Link>
        </Empty>
      ) : (
        <div className="space-y-3">
          {recent.data.items.map((generation) => (
            <GenerationCard key={generation.id} generation={generation} />
          ))}
        </div>
      )}
    </Card>
  );
}

export function DashboardPage() {
  const me = useMe();
  return (
    <>
      <PageHeader
        title={me.data ? `Welcome, ${me.data.name}` : 'Dashboard'}
        description="Your credits, what you spent them on, and what you made."
      />
      <div className="space-y-6">
        <BalanceCard />
        <RecentGenerations />
        <TransactionHistory />
        <StatementCard />
      </div>
    </>
  );
}
