import { useId, useState, type FormEvent } from 'react';
import { ApiError, api } from '../api/client';

type Mode = 'owner' | 'admin';

export function LoginPage({ onSignedIn, notice }: { onSignedIn: () => void; notice?: string | undefined }) {
  const [mode, setMode] = useState<Mode>('owner');
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
