// Accepting a mailed invitation. Signed out: sign in or sign up (with the invited address), and the
// link brings the user back here. Signed in: one explicit click joins (a link preview or prefetch
// never does), then on to the organization.
import { useQueryClient } from '@tanstack/react-query';
import { useLocation, useNavigate } from 'react-router';
import { errorCode, trpc } from '../../lib/trpc.ts';
import { Button } from '../../ui/button.tsx';
import { LinkButton } from '../../ui/link-button.tsx';
import { signInPath, useMe } from '../identity/use-session.ts';

export function AcceptInvitation({ token }: { token: string }) {
  const me = useMe();
  const location = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const utils = trpc.useUtils();
  const here = location.pathname + location.search;
  const accept = trpc.orgs.invitations.accept.useMutation({
    onSuccess: () => utils.orgs.list.invalidate(),
  });
  const signOut = trpc.auth.signOut.useMutation({
    onSuccess: async () => {
      queryClient.clear();
      await navigate(signInPath(here), { replace: true });
    },
  });

  if (!me.data) {
    return (
      <div className="space-y-4 text-sm text-slate-700">
        <p>
          You are invited to join a team on Forgeline. Sign in — or create an account — with the email address
          the invitation was sent to, and you will come straight back here to accept it.
        </p>
        <div className="grid gap-2">
          <LinkButton to={signInPath(here)}>Sign in to accept</LinkButton>
          <LinkButton to={signInPath(here, 'sign-up')} variant="secondary">
            Create an account
          </LinkButton>
        </div>
      </div>
    );
  }

  if (accept.isSuccess) {
    const org = accept.data;
    return (
      <div className="space-y-4 text-sm text-slate-700" role="status">
        <p>
          You joined <strong>{org.name}</strong> as {org.role}.
        </p>
        <LinkButton to={`/orgs?org=${org.id}`} className="w-full">
          Open {org.name}
        </LinkButton>
      </div>
    );
  }

  const wrongAccount = errorCode(accept.error) === 'FORBIDDEN';
  return (
    <div className="space-y-4 text-sm text-slate-700">
      <p>
        Signed in as <strong>{me.data.email}</strong>. Accept to join the team that invited you.
      </p>
      {accept.error && (
        <p role="alert" className="rounded-lg bg-red-50 px-3 py-2 text-red-700 ring-1 ring-red-200">
          {accept.error.message}
        </p>
      )}
      {wrongAccount ? (
        <Button className="w-full" busy={signOut.isPending} onClick={() => signOut.mutate()}>
          Sign in with another account
        </Button>
      ) : (
        <Button
          className="w-full"
          busy={accept.isPending}
          disabled={accept.isError}
          onClick={() => accept.mutate({ token })}
        >
          Accept invitation
        </Button>
      )}
    </div>
  );
}
