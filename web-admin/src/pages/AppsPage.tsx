import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError, api } from '../api/client';
import type { App } from '../api/types';
import { Dialog } from '../components/Dialog';
import { Link } from '../components/Link';
import { Empty, ErrorBanner, OneTimeSecret, Spinner } from '../components/bits';
import { formatDate, parseOrigins } from '../lib/format';
import { appPath } from '../router';

const APP_ID_PATTERN = /^[A-Za-z0-9._-]{1,80}$/;

export function AppsPage() {
  const [apps, setApps] = useState<App[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);

  const load = useCallback(async (signal?: AbortSignal) => {
    try {
      setError(null);
      setApps(await api.listApps(signal));
    } catch (caught) {
      if (!signal?.aborted) setError(caught);
    }
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  return (
    <section aria-labelledby="apps-title">
      <div className="page-head">
        <h1 id="apps-title">Apps</h1>
        <button type="button" className="button button--primary" onClick={() => setCreating(true)}>
          Create app
        </button>
      </div>
      <ErrorBanner error={error} />
      {apps === null && !error && <Spinner label="Loading apps…" />}
      {apps !== null && apps.length === 0 && (
        <Empty>
          <p>No apps yet. Create one for each site that collects sign-ups.</p>
        </Empty>
      )}
      {apps !== null && apps.length > 0 && (
        <div className="table-wrap">
          <table className="table" data-testid="apps-table">
            <caption className="visually-hidden">Apps, with their user counts</caption>
            <thead>
              <tr>
                <th scope="col">App</th>
                <th scope="col" className="num">Users</th>
                <th scope="col">Created</th>
                <th scope="col">Allowed origins</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {apps.map((app) => (
                <tr key={app.sourceAppId}>
                  <td>
                    <Link href={appPath(app.sourceAppId)} className="strong">{app.name || app.sourceAppId}</Link>
                    <div className="muted mono">{app.sourceAppId}</div>
                  </td>
                  <td className="num">{app.userCount ?? '—'}</td>
                  <td>{formatDate(app.createdAt)}</td>
                  <td className="origins">{app.allowedOrigins.join(', ') || '—'}</td>
                  <td className="row-actions">
                    <Link href={appPath(app.sourceAppId, 'settings')} className="button button--small" aria-label={`Settings of ${app.sourceAppId}`}>
                      Settings
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {creating && (
        <CreateAppDialog
          onClose={() => setCreating(false)}
          onCreated={() => void load()}
        />
      )}
    </section>
  );
}

function CreateAppDialog({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const [sourceAppId, setSourceAppId] = useState('');
  const [name, setName] = useState('');
  const [origins, setOrigins] = useState('');
  const [honeypot, setHoneypot] = useState('');
  const [thankYou, setThankYou] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [created, setCreated] = useState<{ appId: string; password: string } | null>(null);

  const idProblem = sourceAppId !== '' && !APP_ID_PATTERN.test(sourceAppId) ? '1–80 characters: letters, digits, dot, dash or underscore.' : undefined;
  const fieldError = (field: string) => (error instanceof ApiError ? error.detailFor(field) : undefined);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api.createApp({
        sourceAppId: sourceAppId.trim(),
        name: name.trim(),
        allowedOrigins: parseOrigins(origins),
        ...(honeypot.trim() ? { honeypotField: honeypot.trim() } : {}),
        ...(thankYou.trim() ? { thankYouUrl: thankYou.trim() } : {}),
      });
      setCreated({ appId: result.app?.sourceAppId || sourceAppId.trim(), password: result.password });
      onCreated();
    } catch (caught) {
      setError(caught instanceof Error ? caught : new Error(String(caught)));
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <Dialog title={`App ${created.appId} created`} onClose={onClose} modalOnly>
        <OneTimeSecret appId={created.appId} password={created.password} onDone={onClose} />
      </Dialog>
    );
  }

  return (
    <Dialog title="Create app" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <label className="field">
          <span>App id</span>
          <input name="sourceAppId" required value={sourceAppId} onChange={(e) => setSourceAppId(e.target.value)} autoCapitalize="off" spellCheck={false} aria-invalid={Boolean(idProblem || fieldError('sourceAppId'))} aria-describedby="new-app-id-help" data-autofocus />
          <small id="new-app-id-help" className={idProblem || fieldError('sourceAppId') ? 'field-error' : 'hint'}>
            {fieldError('sourceAppId') ?? idProblem ?? 'Chosen once, never changes; sites send it as x-app-id. Example: my-marketing-site'}
          </small>
        </label>
        <label className="field">
          <span>Name</span>
          <input name="name" required value={name} onChange={(e) => setName(e.target.value)} aria-invalid={Boolean(fieldError('name'))} />
          {fieldError('name') && <small className="field-error">{fieldError('name')}</small>}
        </label>
        <label className="field">
          <span>Allowed origins</span>
          <textarea name="allowedOrigins" rows={2} value={origins} onChange={(e) => setOrigins(e.target.value)} placeholder="https://example.com" aria-describedby="new-app-origins-help" />
          <small id="new-app-origins-help" className={fieldError('allowedOrigins') ? 'field-error' : 'hint'}>
            {fieldError('allowedOrigins') ?? 'One per line or comma-separated; * allows any site.'}
          </small>
        </label>
        <details>
          <summary>More options</summary>
          <label className="field">
            <span>Honeypot field (optional)</span>
            <input name="honeypotField" value={honeypot} onChange={(e) => setHoneypot(e.target.value)} />
            {fieldError('honeypotField') && <small className="field-error">{fieldError('honeypotField')}</small>}
          </label>
          <label className="field">
            <span>Thank-you page URL (optional, for plain HTML forms)</span>
            <input name="thankYouUrl" type="url" value={thankYou} onChange={(e) => setThankYou(e.target.value)} />
            {fieldError('thankYouUrl') && <small className="field-error">{fieldError('thankYouUrl')}</small>}
          </label>
        </details>
        <ErrorBanner error={error && !(error instanceof ApiError && error.details.length > 0) ? error : null} />
        {error instanceof ApiError && error.details.length > 0 && <p className="field-error" role="alert">{error.message}</p>}
        <div className="actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button--primary" disabled={busy || !APP_ID_PATTERN.test(sourceAppId.trim()) || name.trim() === ''}>
            {busy ? 'Creating…' : 'Create app'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
