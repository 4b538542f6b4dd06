import { useState, type FormEvent } from 'react';
import { ApiError, api } from '../api/client';
import type { App, AppChanges } from '../api/types';
import { Dialog } from '../components/Dialog';
import { ErrorBanner, OneTimeSecret } from '../components/bits';
import { formatDate, parseOrigins } from '../lib/format';
import { navigate } from '../router';
import { useSession } from '../session';

export function SettingsPanel({ app, onChanged }: { app: App; onChanged: (app: App) => void }) {
  const { isAdmin } = useSession();
  const [name, setName] = useState(app.name);
  const [origins, setOrigins] = useState(app.allowedOrigins.join('\n'));
  const [honeypot, setHoneypot] = useState(app.honeypotField ?? '');
  const [thankYou, setThankYou] = useState(app.thankYouUrl ?? '');
  const [errorPage, setErrorPage] = useState(app.errorUrl ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [rotating, setRotating] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const detail = (field: string) => (error instanceof ApiError ? error.detailFor(field) : undefined);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    const changes: AppChanges = { name: name.trim(), allowedOrigins: parseOrigins(origins) };
    if (isAdmin) {
      changes.honeypotField = honeypot.trim() || null;
      changes.thankYouUrl = thankYou.trim() || null;
      changes.errorUrl = errorPage.trim() || null;
    }
    try {
      const updated = await api.updateApp(app.sourceAppId, changes);
      onChanged(updated.sourceAppId ? updated : { ...app, ...changes });
      setSaved(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="panel settings">
      <form className="card" onSubmit={(e) => void submit(e)} noValidate>
        <h2>App details</h2>
        <p className="muted small">Created {formatDate(app.createdAt)} · updated {formatDate(app.updatedAt)}</p>
        <label className="field">
          <span>Name</span>
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} required aria-invalid={Boolean(detail('name'))} />
          {detail('name') && <small className="field-error">{detail('name')}</small>}
        </label>
        <label className="field">
          <span>Allowed origins</span>
          <textarea name="allowedOrigins" rows={3} value={origins} onChange={(e) => setOrigins(e.target.value)} aria-describedby="origins-help" />
          <small id="origins-help" className={detail('allowedOrigins') ? 'field-error' : 'hint'}>
            {detail('allowedOrigins') ?? 'Sites allowed to submit from a browser, e.g. https://example.com — one per line; * allows any.'}
          </small>
        </label>
        {isAdmin && (
          <>
            <label className="field">
              <span>Honeypot field</span>
              <input name="honeypotField" value={honeypot} onChange={(e) => setHoneypot(e.target.value)} aria-describedby="honeypot-help" />
              <small id="honeypot-help" className={detail('honeypotField') ? 'field-error' : 'hint'}>
                {detail('honeypotField') ?? 'A hidden form field; submissions that fill it are answered normally and not stored.'}
              </small>
            </label>
            <label className="field">
              <span>Thank-you page URL</span>
              <input name="thankYouUrl" type="url" value={thankYou} onChange={(e) => setThankYou(e.target.value)} />
              {detail('thankYouUrl') && <small className="field-error">{detail('thankYouUrl')}</small>}
            </label>
            <label className="field">
              <span>Error page URL</span>
              <input name="errorUrl" type="url" value={errorPage} onChange={(e) => setErrorPage(e.target.value)} aria-describedby="error-url-help" />
              <small id="error-url-help" className={detail('errorUrl') ? 'field-error' : 'hint'}>
                {detail('errorUrl') ?? 'Plain HTML forms that fail are sent here, with ?error=<code>&field=<key> for each field at fault; empty shows a built-in page.'}
              </small>
            </label>
          </>
        )}
        <ErrorBanner error={error} />
        {saved && <p className="banner banner--info" role="status">Saved.</p>}
        <div className="actions">
          <button type="submit" className="button button--primary" disabled={busy || name.trim() === ''}>{busy ? 'Saving…' : 'Save'}</button>
        </div>
      </form>
      {isAdmin && (
        <section className="card danger-zone" aria-labelledby="danger-title">
          <h2 id="danger-title">Password and deletion</h2>
          <div className="danger-zone__row">
            <p>Rotating the password signs the owner out everywhere; the new one is shown once.</p>
            <button type="button" className="button" onClick={() => setRotating(true)}>Rotate password…</button>
          </div>
          <div className="danger-zone__row">
            <p>Deleting the app deletes all its users and schema versions.</p>
            <button type="button" className="button button--danger" onClick={() => setDeleting(true)}>Delete app…</button>
          </div>
        </section>
      )}
      {rotating && <RotateDialog appId={app.sourceAppId} onClose={() => setRotating(false)} />}
      {deleting && <DeleteDialog appId={app.sourceAppId} onClose={() => setDeleting(false)} />}
    </div>
  );
}

function RotateDialog({ appId, onClose }: { appId: string; onClose: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [password, setPassword] = useState<string | null>(null);
  const rotate = async () => {
    setBusy(true);
    setError(null);
    try {
      setPassword((await api.rotatePassword(appId)).password);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  if (password) {
    return (
      <Dialog title={`New password for ${appId}`} onClose={onClose} modalOnly>
        <OneTimeSecret appId={appId} password={password} onDone={onClose} />
      </Dialog>
    );
  }
  return (
    <Dialog title="Rotate password?" onClose={onClose}>
      <p>The current password of <code>{appId}</code> stops working at once and every owner session ends.</p>
      <ErrorBanner error={error} />
      <div className="actions">
        <button type="button" className="button" onClick={onClose} data-autofocus>Cancel</button>
        <button type="button" className="button button--primary" disabled={busy} onClick={() => void rotate()}>{busy ? 'Rotating…' : 'Rotate password'}</button>
      </div>
    </Dialog>
  );
}

function DeleteDialog({ appId, onClose }: { appId: string; onClose: () => void }) {
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const remove = async (event: FormEvent) => {
    event.preventDefault();
    if (typed !== appId) return;
    setBusy(true);
    setError(null);
    try {
      await api.deleteApp(appId);
      onClose();
      navigate('/apps');
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };
  return (
    <Dialog title="Delete app?" onClose={onClose}>
      <form onSubmit={(e) => void remove(e)}>
        <p>
          This deletes <code>{appId}</code>, <strong>all of its users</strong> and its schema history. It cannot be undone.
        </p>
        <label className="field">
          <span>Type the app id <code>{appId}</code> to confirm</span>
          <input value={typed} onChange={(e) => setTyped(e.target.value)} autoCapitalize="off" spellCheck={false} autoComplete="off" data-autofocus name="confirmAppId" />
        </label>
        <ErrorBanner error={error} />
        <div className="actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button--danger" disabled={busy || typed !== appId}>{busy ? 'Deleting…' : 'Delete app and users'}</button>
        </div>
      </form>
    </Dialog>
  );
}
