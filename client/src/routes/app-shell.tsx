// The signed-in frame: navigation, balance, sign-out, and the live generation subscription.
// Anyone not signed in is sent to /sign-in (and brought back afterwards).
import { Navigate, NavLink, Outlet, useLocation } from 'react-router';
import { BalancePill } from '../features/credits/balance-card.tsx';
import { useGenerationUpdates } from '../features/generations/use-generation-updates.ts';
import { useMe, useSignOut } from '../features/identity/use-session.ts';
import { Button } from '../ui/button.tsx';
import { ErrorState, Loading } from '../ui/layout.tsx';

const NAV = [
  { to: '/', label: 'Dashboard', end: true },
  { to: '/generate', label: 'Generate', end: false },
  { to: '/history', label: 'History', end: false },
  { to: '/files', label: 'Files', end: false },
  { to: '/projects', label: 'Projects', end: false },
  { to: '/orgs', label: 'Teams', end: false },
  { to: '/pricing', label: 'Pricing', end: false },
  { to: '/billing', label: 'Billing', end: false },
  { to: '/settings', label: 'Settings', end: false },
] as const;

export function AppShell() {
  const me = useMe();
  const location = useLocation();
  const signOut = useSignOut();
  useGenerationUpdates(Boolean(me.data));

  if (me.isPending) return <Loading />;
  if (me.error)
    return (
      <div className="mx-auto max-w-md p-6">
        <ErrorState error={me.error} retry={() => me.refetch()} />
      </div>
    );
  if (!me.data) {
    const next =
      location.pathname === '/' ? '' : `?next=${encodeURIComponent(location.pathname + location.search)}`;
    return <Navigate to={`/sign-in${next}`} replace />;
  }

  return (
    <div className="min-h-screen">
      <header className="sticky top-0 z-10 border-b border-slate-200 bg-white/90 backdrop-blur">
        <div className="mx-auto flex max-w-5xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <NavLink to="/" className="flex items-center gap-2 font-bold text-slate-900">
            <span className="flex size-7 items-center justify-center rounded-lg bg-indigo-600 text-sm text-white">
              F
            </span>
            Forgeline
          </NavLink>
          <nav
            aria-label="Main"
            className="order-last flex w-full gap-1 overflow-x-auto sm:order-none sm:w-auto"
          >
            {[...NAV, ...(me.data.role === 'user' ? [] : [{ to: '/admin', label: 'Admin', end: false }])].map(
              (item) => (
                <NavLink
                  key={item.to}
                  to={item.to}
                  end={item.end}
                  className={({ isActive }) =>
                    `rounded-lg px-3 py-1.5 text-sm font-medium ${isActive ? 'bg-indigo-50 text-indigo-700' : 'text-slate-600 hover:bg-slate-100'}`
                  }
                >
                  {item.label}
                </NavLink>
              ),
            )}
          </nav>
          <div className="ml-auto flex items-center gap-3">
            <BalancePill />
            <span className="hidden text-sm text-slate-600 xl:inline" title={me.data.email}>
              {me.data.name}
            </span>
            <Button variant="ghost" busy={signOut.isPending} onClick={() => signOut.mutate()}>
              Sign out
            </Button>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-5xl px-4 py-8">
        <Outlet />
      </main>
    </div>
  );
}
