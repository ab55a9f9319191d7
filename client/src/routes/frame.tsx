// The frame around every page but the sign-in ones: for a signed-in user the app's header (main
// navigation, balance, sign-out; a menu on phones) and the live generation subscription; for a
// visitor the public header (pricing, sign in, get started). A skip link jumps to the content.
import { type ReactNode, Suspense, useEffect, useId, useRef, useState } from 'react';
import { Link, NavLink, Outlet, useLocation } from 'react-router';
import { BalancePill } from '../features/credits/balance-card.tsx';
import { useGenerationUpdates } from '../features/generations/use-generation-updates.ts';
import { useMe, useSignOut } from '../features/identity/use-session.ts';
import { Button } from '../ui/button.tsx';
import { ErrorState } from '../ui/layout.tsx';
import { LinkButton } from '../ui/link-button.tsx';
import { SkeletonPage } from '../ui/skeleton.tsx';

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

function SkipLink() {
  return (
    <a
      href="#main"
      className="sr-only rounded-lg bg-white px-4 py-2 text-sm font-semibold text-indigo-700 shadow-lg ring-1 ring-slate-200 focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:z-50"
    >
      Skip to content
    </a>
  );
}

function Logo() {
  return (
    <Link to="/" className="flex shrink-0 items-center gap-2 font-bold text-slate-900">
      <span
        aria-hidden="true"
        className="flex size-7 items-center justify-center rounded-lg bg-indigo-600 text-sm text-white"
      >
        F
      </span>
      Forgeline
    </Link>
  );
}

/** The sticky bar both frames open with: the logo, then what the frame puts beside it. */
function Header({ width, children }: { width: string; children: ReactNode }) {
  return (
    <header className="sticky top-0 z-20 border-b border-slate-200 bg-white/95 backdrop-blur">
      <div className={`mx-auto flex h-14 items-center gap-3 px-4 sm:gap-4 ${width}`}>
        <Logo />
        {children}
      </div>
    </header>
  );
}

function Main() {
  return (
    <main id="main" tabIndex={-1} className="mx-auto max-w-6xl px-4 py-8 outline-none">
      <Suspense fallback={<SkeletonPage />}>
        <Outlet />
      </Suspense>
    </main>
  );
}

/** Scroll to the top on each new page (not on a change of query string only). */
function useScrollToTop() {
  const { pathname } = useLocation();
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on each new pathname
  useEffect(() => {
    window.scrollTo(0, 0);
  }, [pathname]);
}

export function Frame() {
  const me = useMe();
  useScrollToTop();
  if (me.isPending)
    return (
      <div className="mx-auto max-w-6xl px-4 py-10">
        <SkeletonPage />
      </div>
    );
  // Who is signed in is unknown (the server could not be reached): say so rather than guess.
  if (me.error && me.data === undefined)
    return (
      <div className="mx-auto max-w-md px-4 py-16">
        <ErrorState error={me.error} retry={() => me.refetch()} />
      </div>
    );
  return me.data ? (
    <AppFrame name={me.data.name} email={me.data.email} staff={me.data.role !== 'user'} />
  ) : (
    <PublicFrame />
  );
}

const navLinkClass = ({ isActive }: { isActive: boolean }) =>
  `whitespace-nowrap rounded-lg px-2.5 py-1.5 text-sm font-medium ${isActive ? 'bg-indigo-50 text-indigo-700' : 'text-slate-600 hover:bg-slate-100 hover:text-slate-900'}`;

function AppFrame({ name, email, staff }: { name: string; email: string; staff: boolean }) {
  const signOut = useSignOut();
  useGenerationUpdates(true);
  const items = [...NAV, ...(staff ? [{ to: '/admin', label: 'Admin', end: false }] : [])];
  return (
    <div className="min-h-screen">
      <SkipLink />
      <Header width="max-w-7xl">
        <nav aria-label="Main" className="hidden min-w-0 items-center gap-0.5 xl:flex">
          {items.map((item) => (
            <NavLink key={item.to} to={item.to} end={item.end} className={navLinkClass}>
              {item.label}
            </NavLink>
          ))}
        </nav>
        <div className="ml-auto flex items-center gap-2">
          <BalancePill />
          <div className="hidden xl:block">
            <Button
              variant="ghost"
              title={`Signed in as ${name} (${email})`}
              busy={signOut.isPending}
              onClick={() => signOut.mutate()}
            >
              Sign out
            </Button>
          </div>
          <MobileMenu items={items} name={name} email={email} onSignOut={() => signOut.mutate()} />
        </div>
      </Header>
      <Main />
    </div>
  );
}

/** Below the xl breakpoint: a menu button opening the navigation as a full-width panel. */
function MobileMenu({
  items,
  name,
  email,
  onSignOut,
}: {
  items: { to: string; label: string; end: boolean }[];
  name: string;
  email: string;
  onSignOut: () => void;
}) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const button = useRef<HTMLButtonElement>(null);
  const location = useLocation();
  // A link followed closes the menu.
  // biome-ignore lint/correctness/useExhaustiveDependencies: close on every navigation
  useEffect(() => setOpen(false), [location.pathname]);
  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [open]);
  return (
    <div className="xl:hidden">
      <button
        ref={button}
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((value) => !value)}
        className="inline-flex items-center gap-2 rounded-lg px-3 py-2 text-sm font-semibold text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50"
      >
        <svg aria-hidden="true" viewBox="0 0 20 20" className="size-4" fill="currentColor">
          {open ? (
            <path d="M5.3 4.3 10 9l4.7-4.7 1 1L11 10l4.7 4.7-1 1L10 11l-4.7 4.7-1-1L9 10 4.3 5.3z" />
          ) : (
            <path d="M3 5h14v1.5H3zm0 4.25h14v1.5H3zM3 13.5h14V15H3z" />
          )}
        </svg>
        Menu
      </button>
      <div
        id={panelId}
        hidden={!open}
        className="absolute inset-x-0 top-14 max-h-[calc(100vh-3.5rem)] overflow-y-auto border-b border-slate-200 bg-white px-4 pt-2 pb-4 shadow-lg"
      >
        {open && (
          <>
            <nav aria-label="Main">
              <ul className="grid grid-cols-2 gap-1">
                {items.map((item) => (
                  <li key={item.to}>
                    <NavLink
                      to={item.to}
                      end={item.end}
                      className={({ isActive }) =>
                        `block rounded-lg px-3 py-2.5 text-base font-medium ${isActive ? 'bg-indigo-50 text-indigo-700' : 'text-slate-700 hover:bg-slate-100'}`
                      }
                    >
                      {item.label}
                    </NavLink>
                  </li>
                ))}
              </ul>
            </nav>
            <div className="mt-3 flex items-center justify-between gap-3 border-t border-slate-200 pt-3">
              <p className="min-w-0 text-sm">
                <span className="block truncate font-medium text-slate-900">{name}</span>
                <span className="block truncate text-slate-600">{email}</span>
              </p>
              <Button variant="secondary" className="shrink-0 whitespace-nowrap" onClick={onSignOut}>
                Sign out
              </Button>
            </div>
          </>
        )}
      </div>
    </div>
  );
}

function PublicFrame() {
  const location = useLocation();
  const here = location.pathname + location.search;
  const next = here === '/' || here === '/pricing' ? '' : `?next=${encodeURIComponent(here)}`;
  return (
    <div className="flex min-h-screen flex-col">
      <SkipLink />
      <Header width="max-w-6xl">
        <nav aria-label="Main" className="ml-2 flex items-center gap-1">
          <NavLink to="/pricing" className={navLinkClass}>
            Pricing
          </NavLink>
        </nav>
        <div className="ml-auto flex items-center gap-2">
          <Link
            to={`/sign-in${next}`}
            className="rounded-lg px-3 py-2 text-sm font-semibold text-slate-700 hover:bg-slate-100"
          >
            Sign in
          </Link>
          <LinkButton to={`/sign-up${next}`}>Get started</LinkButton>
        </div>
      </Header>
      <div className="flex-1">
        <Main />
      </div>
      <footer className="border-t border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-3 px-4 py-6 text-sm text-slate-600">
          <p>© Forgeline. Logos, images, text and code from one balance of credits.</p>
          <p className="flex gap-4">
            <Link to="/pricing" className="hover:underline">
              Pricing
            </Link>
            <Link to="/sign-in" className="hover:underline">
              Sign in
            </Link>
          </p>
        </div>
      </footer>
    </div>
  );
}
