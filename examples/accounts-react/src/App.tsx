import { AuthProvider, ResetPasswordForm, useAuth } from '@users-api/client/react';

import { Home } from './Home';
import { JoinPage } from './JoinPage';
import { VerifyEmailPage } from './VerifyEmailPage';
import { users } from './users';
import './styles.css';

/**
 * The pages, by path. The e-mails' links lead to /verify, /reset and /join with `?token=`
 * (the app's mail settings: verifyEmailUrl, resetPasswordUrl, acceptInviteUrl). Plain links
 * and full page loads keep the example free of a router; use yours.
 */
function Page() {
  switch (window.location.pathname) {
    case '/verify':
      return <VerifyEmailPage />;
    case '/reset':
      return (
        <section>
          <h2>Choose a new password</h2>
          <ResetPasswordForm />
          <p>
            <a href="/">Back to the log-in page</a>
          </p>
        </section>
      );
    case '/join':
      return <JoinPage />;
    default:
      return <Home />;
  }
}

function Header() {
  const { status, user, logout } = useAuth();
  return (
    <header className="header">
      <a href="/" className="brand">
        Teams
      </a>
      {status === 'signedIn' && user && (
        <span>
          {user.name ?? user.email}{' '}
          <button type="button" className="link-button" onClick={() => void logout()}>
            Log out
          </button>
        </span>
      )}
    </header>
  );
}

export function App() {
  return (
    <AuthProvider client={users}>
      <Header />
      <main className="main">
        <Page />
      </main>
    </AuthProvider>
  );
}
