import { Link, useSearchParams } from 'react-router';
import { OAuthSignIn } from '../features/identity/oauth-buttons.tsx';
import { SignUpForm } from '../features/identity/sign-up-form.tsx';
import { safeNext } from '../features/identity/use-session.ts';
import { AuthFrame, withNext } from './auth-pages.tsx';

export function SignUpPage() {
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  return (
    <AuthFrame
      title="Create your account"
      next={next}
      footer={
        <>
          Already have one?{' '}
          <Link to={withNext('/sign-in', next)} className="font-semibold text-indigo-700 hover:underline">
            Sign in
          </Link>
        </>
      }
    >
      <OAuthSignIn />
      <SignUpForm next={next} />
    </AuthFrame>
  );
}
