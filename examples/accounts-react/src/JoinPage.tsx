import { AcceptInviteForm, useAuth } from '@users-api/client/react';

/**
 * Where the invitation e-mail's link leads (`acceptInviteUrl`): `/join?token=…`. The form reads
 * the token from the URL, shows who invites whom to what, and accepts: a new person chooses a
 * name and a password; someone with an account logs in first, then accepts with one click.
 */
export function JoinPage() {
  const { status } = useAuth();
  return (
    <section>
      <h2>Join an organization</h2>
      <AcceptInviteForm />
      {status === 'signedIn' && (
        <p>
          <a href="/">Go to your account</a>
        </p>
      )}
    </section>
  );
}
