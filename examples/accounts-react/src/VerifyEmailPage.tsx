import type { UsersClient, VerifyEmailResult } from '@users-api/client';
import { describeAuthError, useAuth } from '@users-api/client/react';
import { useEffect, useState } from 'react';

// A link's token works once. React's StrictMode runs effects twice in development, and a page
// may render again: one call per token, whatever happens.
const verifications = new Map<string, Promise<VerifyEmailResult>>();
function verifyOnce(client: UsersClient, token: string) {
  let pending = verifications.get(token);
  if (!pending) {
    pending = client.auth.verifyEmail(token);
    verifications.set(token, pending);
  }
  return pending;
}

/** Where the verification e-mail's link leads (`verifyEmailUrl`): `/verify?token=…`. */
export function VerifyEmailPage() {
  const { client, status, reload } = useAuth();
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  const [result, setResult] = useState<{ email: string } | { problem: string } | undefined>();

  useEffect(() => {
    if (token === '') return;
    let current = true;
    verifyOnce(client, token).then(
      (verified) => {
        if (!current) return;
        setResult({ email: verified.email });
        // Signed in here too: show the account as verified now.
        void reload();
      },
      (error: unknown) => current && setResult({ problem: describeAuthError(error) }),
    );
    return () => {
      current = false;
    };
  }, [client, token, reload]);

  return (
    <section>
      <h2>Confirm your address</h2>
      {token === '' ? (
        <p className="alert" role="alert">
          This page needs the link from the e-mail (it carries a token).
        </p>
      ) : result === undefined ? (
        <p role="status">Confirming…</p>
      ) : 'problem' in result ? (
        <p className="alert" role="alert">
          {result.problem}
        </p>
      ) : (
        <p className="success" role="status">
          Thank you: {result.email} is confirmed.
        </p>
      )}
      <p>
        <a href="/">{status === 'signedIn' ? 'Continue to your account' : 'Continue to log in'}</a>
      </p>
    </section>
  );
}
