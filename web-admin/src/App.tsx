import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, onUnauthorized } from './api/client';
import type { Session } from './api/types';
import { Link } from './components/Link';
import { ErrorBanner, Spinner } from './components/bits';
import { AppPage } from './pages/AppPage';
import { AppsPage } from './pages/AppsPage';
import { LoginPage } from './pages/LoginPage';
import { appPath, navigate, parseRoute, usePathname } from './router';
import { SessionContext, type SessionContextValue } from './session';

type State = { status: 'loading' } | { status: 'anonymous'; notice?: string; needsAdmin?: boolean } | { status: 'signedIn'; session: Session } | { status: 'error'; error: unknown };

export function App() {
  const [state, setState] = useState<State>({ status: 'loading' });
  const pathname = usePathname();
  const route = parseRoute(pathname);

  const probe = useCallback(async () => {
    try {
      setState({ status: 'signedIn', session: await api.session() });
    } catch (error) {
      if ((error as { status?: number }).status !== 401) return setState({ status: 'error', error });
      // A fresh install has no admin yet: the login page then says how to create one.
      const setup = await api.setup().catch(() => undefined);
      setState({ status: 'anonymous', needsAdmin: setup?.needsAdmin === true });
    }
  }, []);

  useEffect(() => {
    void probe();
  }, [probe]);

  useEffect(
    () =>
      onUnauthorized(() => {
        setState({ status: 'anonymous', notice: 'Your session has ended. Please sign in again.' });
      }),
    [],
  );

  const logout = useCallback(async () => {
    try {
      await api.logout();
    } finally {
      setState({ status: 'anonymous' });
      navigate('/login');
    }
  }, []);

  const context = useMemo<SessionContextValue | null>(
    () => (state.status === 'signedIn' ? { session: state.session, isAdmin: state.session.role === 'admin', logout } : null),
    [state, logout],
  );

  useEffect(() => {
    if (state.status === 'anonymous' && route.name !== 'login') navigate('/login', true);
    if (state.status === 'signedIn') {
      const { session } = state;
      if (route.name === 'login' || (route.name === 'apps' && session.role === 'owner')) {
        navigate(session.role === 'admin' ? '/apps' : appPath(session.sourceAppId ?? ''), true);
      }
    }
  }, [state, route.name]);

  useEffect(() => {
    document.title = state.status === 'signedIn' ? 'Users API dashboard' : 'Sign in · Users API';
  }, [state.status]);

  if (state.status === 'loading') return <main className="page"><Spinner /></main>;
  if (state.status === 'error')
    return (
      <main className="page">
        <ErrorBanner error={state.error} />
        <button type="button" className="button" onClick={() => void probe()}>Try again</button>
      </main>
    );
  if (state.status === 'anonymous' || !context)
    return (
      <LoginPage
        notice={state.status === 'anonymous' ? state.notice : undefined}
        needsAdmin={state.status === 'anonymous' && state.needsAdmin === true}
        onSignedIn={() => void probe()}
      />
    );

  const { session } = context;
  return (
    <SessionContext.Provider value={context}>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <Link className="brand" href={session.role === 'admin' ? '/apps' : appPath(session.sourceAppId ?? '')}>Users API</Link>
        <span className="topbar__who" data-testid="who">
          {session.role === 'admin' ? `Admin · ${session.email ?? ''}` : `App owner · ${session.sourceAppId ?? ''}`}
        </span>
        <button type="button" className="button button--small" onClick={() => void logout()}>Sign out</button>
      </header>
      <main id="main" className="page" tabIndex={-1}>
        {route.name === 'apps' && context.isAdmin && <AppsPage />}
        {route.name === 'app' && <AppPage key={route.appId} appId={route.appId} tab={route.tab} />}
        {(route.name === 'notFound' || route.name === 'login') && (
          <p>
            Nothing here. <Link href="/">Go to the start page</Link>.
          </p>
        )}
      </main>
    </SessionContext.Provider>
  );
}
