// Sign in (and the frame of the other public account pages): a signed-in visitor goes straight on.
// Sign-in and sign-up carry `next` (the page to return to) between them, and the sign-in page says
// so when a session has ended. Sign-up is its own module: its form's validation code stays out of
// the sign-in page's first load.
import type { ReactNode } from 'react';
import { Link, Navigate, useLocation, useSearchParams } from 'react-router';
import { OAuthSignIn } from '../features/identity/oauth-buttons.tsx';
import { SignInForm } from '../features/identity/sign-in-form.tsx';
import { safeNext, useMe } from '../features/identity/use-session.ts';
import { PageTitle } from '../ui/layout.tsx';
import { SkeletonLines } from '../ui/skeleton.tsx';

/** The centred card of the public pages; `forSignedIn` keeps a signed-in visitor here (email links). */
export function AuthFrame({
  title,
  footer,
  children,
  forSignedIn = false,
  next = '/',
}: {
  title: string;
  footer: ReactNode;
  children: ReactNode;
  forSignedIn?: boolean;
  /** Where a signed-in visitor goes instead (when not `forSignedIn`). */
  next?: string;
}) {
  const me = useMe();
  if (me.data && !forSignedIn) return <Navigate to={next} replace />;
  return (
    <main id="main" className="flex min-h-screen items-center justify-center px-4 py-12">
      <PageTitle>{title}</PageTitle>
      <div className="w-full max-w-sm">
        <div className="mb-8 text-center">
          <Link
            to="/"
            aria-label="Forgeline home"
            className="inline-flex size-10 items-center justify-center rounded-xl bg-indigo-600 text-lg font-bold text-white"
          >
            F
          </Link>
          <h1 className="mt-4 text-2xl font-bold tracking-tight text-slate-900">{title}</h1>
        </div>
        <div className="rounded-2xl bg-white p-6 shadow-sm ring-1 ring-slate-200">
          {me.isPending ? <SkeletonLines lines={4} /> : children}
        </div>
        <p className="mt-6 text-center text-sm text-slate-600">{footer}</p>
      </div>
    </main>
  );
}

/** `?next=` kept when moving between sign-in and sign-up. */
export const withNext = (path: string, next: string) =>
  next === '/' ? path : `${path}?next=${encodeURIComponent(next)}`;

export function SignInPage() {
  const [params] = useSearchParams();
  const location = useLocation();
  const next = safeNext(params.get('next'));
  const ended = (location.state as { sessionEnded?: boolean } | null)?.sessionEnded;
  return (
    <AuthFrame
      title="Sign in to Forgeline"
      next={next}
      footer={
        <>
          New here?{' '}
          <Link to={withNext('/sign-up', next)} className="font-semibold text-indigo-700 hover:underline">
            Create an account
          </Link>
        </>
      }
    >
      {ended && (
        <p
          role="status"
          className="mb-5 rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-amber-200"
        >
          Your session has ended. Sign in again to continue where you were.
        </p>
      )}
      <OAuthSignIn />
      <SignInForm next={next} />
    </AuthFrame>
  );
}
