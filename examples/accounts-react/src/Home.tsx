import { ForgotPasswordForm, LoginForm, RegisterForm, useAuth } from '@users-api/client/react';
import { useState } from 'react';

import { ChangePassword, Profile } from './Profile';
import { Team } from './Team';

function SignedOut() {
  const [forgot, setForgot] = useState(false);
  return (
    <div className="columns">
      <section aria-labelledby="login-title">
        <h2 id="login-title">Log in</h2>
        {forgot ? <ForgotPasswordForm /> : <LoginForm />}
        <p>
          <button type="button" className="link-button" onClick={() => setForgot(!forgot)}>
            {forgot ? 'Back to log in' : 'Forgot your password?'}
          </button>
        </p>
      </section>
      <section aria-labelledby="register-title">
        <h2 id="register-title">New here? Create an account</h2>
        <RegisterForm />
      </section>
    </div>
  );
}

/** Until the address is confirmed, the account may not create an organization (the app's default). */
function VerifyReminder({ email }: { email: string }) {
  const { client } = useAuth();
  const [sent, setSent] = useState<string | undefined>();
  const resend = async () => {
    try {
      await client.auth.resendVerification();
      setSent('A new link is on its way.');
    } catch (error) {
      setSent(error instanceof Error ? error.message : 'Could not send a new link.');
    }
  };
  return (
    <p className="notice" role="status">
      Please confirm your address: we sent a link to {email}.{' '}
      <button type="button" className="link-button" onClick={() => void resend()}>
        Send it again
      </button>{' '}
      {sent}
    </p>
  );
}

export function Home() {
  const { status, user } = useAuth();
  if (status === 'loading') return <p role="status">Loading…</p>;
  if (status === 'signedOut' || !user) return <SignedOut />;
  return (
    <>
      <h1>Welcome, {user.name ?? user.email}</h1>
      {!user.email_verified && <VerifyReminder email={user.email} />}
      <div className="columns">
        <Profile />
        <ChangePassword />
      </div>
      <Team />
    </>
  );
}
