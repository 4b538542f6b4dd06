import { useId, useState, type FormEvent } from 'react';
import { ApiError, api } from '../api/client';

type Mode = 'owner' | 'admin';

/** What a fresh install's operator runs on the server (the start-up log says the same). */
export const FIRST_ADMIN_COMMAND = 'users-api admin create --email you@example.com';

/**
 * `needsAdmin`: the service has no admin yet (GET /auth/setup), so nobody can sign in; the page
 * says how to create the first one and starts in admin mode.
 */
export function LoginPage({ onSignedIn, notice, needsAdmin = false }: { onSignedIn: () => void; notice?: string | undefined; needsAdmin?: boolean }) {
  const [mode, setMode] = useState<Mode>(needsAdmin ? 'admin' : 'owner');
  const [identity, setIdentity] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const errorId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = mode === 'owner' ? { sourceAppId: identity.trim(), password } : { email: identity.trim(), password };
      await api.login(body);
      setPassword('');
      onSignedIn();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : 'Signing in failed. Please try again.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="card login__card" onSubmit={(e) => void submit(e)} aria-describedby={error ? errorId : undefined} noValidate>
        <h1>Users API</h1>
        <p className="hint">Sign in to see and manage your sign-ups.</p>
        {notice && !error && <p className="banner banner--info" role="status">{notice}</p>}
        {needsAdmin && (
          <div className="banner banner--info first-run" data-testid="first-run">
            <p>
              <strong>No admin exists yet.</strong> Create the first one on the server, with the service’s configuration (the
              password is read from a prompt or standard input, at least 12 characters):
            </p>
            <pre>
              <code>{FIRST_ADMIN_COMMAND}</code>
            </pre>
            <p>Then sign in here as platform admin.</p>
          </div>
        )}
        <fieldset className="segmented">
          <legend className="visually-hidden">Sign in as</legend>
          <label className={mode === 'owner' ? 'is-active' : ''}>
            <input type="radio" name="mode" value="owner" checked={mode === 'owner'} onChange={() => { setMode('owner'); setError(null); }} />
            App owner
          </label>
          <label className={mode === 'admin' ? 'is-active' : ''}>
            <input type="radio" name="mode" value="admin" checked={mode === 'admin'} onChange={() => { setMode('admin'); setError(null); }} />
            Platform admin
          </label>
        </fieldset>
        <label className="field">
          <span>{mode === 'owner' ? 'App id' : 'Email'}</span>
          <input
            name={mode === 'owner' ? 'sourceAppId' : 'email'}
            type={mode === 'owner' ? 'text' : 'email'}
            autoComplete="username"
            autoCapitalize="off"
            spellCheck={false}
            required
            value={identity}
            onChange={(e) => setIdentity(e.target.value)}
            aria-invalid={error ? true : undefined}
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} aria-invalid={error ? true : undefined} />
        </label>
        {error && (
          <p id={errorId} className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button button--primary button--block" disabled={busy || identity.trim() === '' || password === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
