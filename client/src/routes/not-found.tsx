// An address that leads nowhere, inside the frame (navigation stays at hand).
import { useLocation } from 'react-router';
import { useMe } from '../features/identity/use-session.ts';
import { PageTitle } from '../ui/layout.tsx';
import { LinkButton } from '../ui/link-button.tsx';

export function NotFoundPage() {
  const me = useMe();
  const { pathname } = useLocation();
  return (
    <div className="py-16 text-center">
      <PageTitle>Page not found</PageTitle>
      <p className="text-sm font-semibold text-indigo-700">404</p>
      <h1 className="mt-2 text-3xl font-bold tracking-tight text-slate-900">Page not found</h1>
      <p className="mt-3 text-slate-600">
        Nothing lives at{' '}
        <code className="rounded bg-slate-100 px-1.5 py-0.5 text-sm text-slate-800">{pathname}</code>. It may
        have moved, or the link may be mistyped.
      </p>
      <div className="mt-8 flex justify-center gap-3">
        <LinkButton to="/">{me.data ? 'Back to the dashboard' : 'Back to the home page'}</LinkButton>
        {me.data && (
          <LinkButton to="/history" variant="secondary">
            Your history
          </LinkButton>
        )}
      </div>
    </div>
  );
}
