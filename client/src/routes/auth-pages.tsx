// Sign in and sign up: public pages; a signed-in visitor goes straight to the app.
import type { ReactNode } from 'react';
import { Link, Navigate, useSearchParams } from 'react-router';
import { OAuthSignIn } from '../features/identity/oauth-buttons.tsx';
import { SignInForm } from '../features/identity/sign-in-form.tsx';
import { SignUpForm } from '../features/identity/sign-up-form.tsx';
import { useMe } from '../features/identity/use-session.ts';
import { Loading } from '../ui/layout.tsx';

/** Only same-site paths: never an open redirect. */
const safeNext = (value: string | null) => (value?.startsWith('/') && !value.startsWith('//') ? value : '/');

/** The centred card of the public pages; `forSignedIn` keeps a signed-in visitor here (email links). */
export function AuthFrame({
  title,
  footer,
  children,
  forSignedIn = false,
}: {
  title: string;
  footer: ReactNode;
  children: ReactNode;
  forSignedIn?: boolean;
}) {
  const me = useMe();
  if (me.isPending) return <Loading />;
  if (me.data && !forSignedIn) return <Navigate to="/" replace />;
  return (
    <main className="flex min-h-screen items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm">
        <div className="mb-8 text-center">
          <span className="inline-flex size-10 items-center justify-center rounded-xl bg-indigo-600 text-lg font-bold text-white">
            F
          </span>
          <h1 className="mt-4 text-2xl font-bold tracking-tight text-slate-900">{title}</h1>
        </div>
        <div className="rounded-2xl bg-white p-6 shadow-sm ring-1 ring-slate-200">{children}</div>
        <p className="mt-6 text-center text-sm text-slate-600">{footer}</p>
      </div>
    </main>
  );
}

export function SignInPage() {
  const [params] = useSearchParams();
  return (
    <AuthFrame
      title="Sign in to Forgeline"
      footer={
        <>
          New here?{' '}
          <Link to="/sign-up" className="font-semibold text-indigo-700 hover:underline">
            Create an account
          </Link>
        </>
      }
    >
      <OAuthSignIn />
      <SignInForm next={safeNext(params.get('next'))} />
    </AuthFrame>
  );
}

export function SignUpPage() {
  return (
    <AuthFrame
      title="Create your account"
      footer={
        <>
          Already have one?{' '}
          <Link to="/sign-in" className="font-semibold text-indigo-700 hover:underline">
            Sign in
          </Link>
        </>
      }
    >
      <OAuthSignIn />
      <SignUpForm />
    </AuthFrame>
  );
}
