import { Link, useSearchParams } from 'react-router';
import { AcceptInvitation } from '../features/orgs/accept-invitation.tsx';
import { AuthFrame } from './auth-pages.tsx';

export function AcceptInvitationPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  return (
    <AuthFrame
      title="Join your team"
      forSignedIn
      footer={
        <Link to="/" className="font-semibold text-indigo-700 hover:underline">
          Continue to Forgeline
        </Link>
      }
    >
      {token.length < 20 ? (
        <p role="alert" className="text-sm text-red-700">
          This invitation link is incomplete. Open the link from the email again, or ask for a new invitation.
        </p>
      ) : (
        <AcceptInvitation token={token} />
      )}
    </AuthFrame>
  );
}
