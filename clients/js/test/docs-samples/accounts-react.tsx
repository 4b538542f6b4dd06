import { createUsersClient } from '@users-api/client';
import { AuthProvider, LoginForm, RegisterForm, useAuth } from '@users-api/client/react';

// Created once, outside the components.
const users = createUsersClient({
  baseUrl: import.meta.env.VITE_USERS_API_URL,
  appId: import.meta.env.VITE_USERS_API_APP_ID,
  storage: 'localStorage',
});

function Account() {
  const { status, user, logout } = useAuth();
  if (status === 'loading') return <p>Loading…</p>;
  if (status === 'signedOut') {
    return (
      <>
        <h2>Log in</h2>
        <LoginForm />
        <h2>New here?</h2>
        <RegisterForm />
      </>
    );
  }
  return (
    <p>
      Signed in as {user?.email}{' '}
      <button type="button" onClick={() => void logout()}>
        Log out
      </button>
    </p>
  );
}

export function App() {
  return (
    <AuthProvider client={users}>
      <Account />
    </AuthProvider>
  );
}
