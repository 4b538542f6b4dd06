import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError, api } from '../api/client';
import { BUILT_IN_PERMISSIONS, KEY_ROLES, type ApiKey, type App, type CreatedApiKey } from '../api/types';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { Empty, ErrorBanner, Field, ShownOnce, Spinner } from '../components/bits';
import { emptyKeyForm, keyState, newApiKeyBody, type KeyForm } from '../lib/apiKeys';
import { formatDate } from '../lib/format';

const STATE_LABELS = { active: 'Active', expired: 'Expired', revoked: 'Revoked' } as const;

export function ApiKeysPanel({ app }: { app: App }) {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    api
      .listApiKeys(app.sourceAppId, controller.signal)
      .then(setKeys)
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setError(caught);
      });
    return () => controller.abort();
  }, [app.sourceAppId, reload]);

  // The list shows the new key (by its prefix) behind the dialog that shows the key once.
  const created = useCallback(() => {
    setNotice(null);
    setReload((n) => n + 1);
  }, []);

  const revoke = async (key: ApiKey) => {
    await api.revokeApiKey(app.sourceAppId, key.id);
    setRevoking(null);
    setNotice(`The key “${key.name}” was revoked.`);
    setReload((n) => n + 1);
  };

  return (
    <div className="panel" data-testid="api-keys">
      <div className="page-head">
        <p className="hint panel-intro">
          Keys for your own backend: each acts as this app’s tenant admin, limited to its permissions, on the accounts API (<code>Authorization: Bearer …</code> or <code>X-API-Key</code>) and on this app’s management routes.
        </p>
        <button type="button" className="button button--primary" onClick={() => setCreating(true)}>Create key</button>
      </div>
      {notice && <p className="banner banner--info" role="status">{notice}</p>}
      <ErrorBanner error={error} />
      {keys === null && !error && <Spinner label="Loading keys…" />}
      {keys !== null && keys.length === 0 && (
        <Empty>
          <p>No API keys yet.</p>
        </Empty>
      )}
      {keys !== null && keys.length > 0 && (
        <div className="table-wrap">
          <table className="table keys-table" data-testid="keys-table">
            <caption className="visually-hidden">API keys of {app.sourceAppId}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Permissions</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">Status</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => {
                const state = keyState(key);
                return (
                  <tr key={key.id} data-key-id={key.id}>
                    <td className="strong" data-label="Name">{key.name}</td>
                    <td className="mono nowrap" data-label="Prefix">{key.prefix}…</td>
                    <td className="wrap" data-label="Permissions">
                      {key.role && <span className="tag">role {key.role}</span>}{' '}
                      <span title={key.permissions.join(', ')}>{key.permissions.join(', ')}</span>
                    </td>
                    <td className="nowrap" data-label="Last used">{key.lastUsedAt ? formatDate(key.lastUsedAt) : 'Never'}</td>
                    <td className="nowrap" data-label="Expires">{key.expiresAt ? formatDate(key.expiresAt) : 'Never'}</td>
                    <td className="nowrap" data-label="Status">
                      <span className={`status status--${state}`}>{STATE_LABELS[state]}</span>
                      {key.revokedAt && <span className="muted small"> {formatDate(key.revokedAt)}</span>}
                    </td>
                    <td className="row-actions">
                      {!key.revokedAt && (
                        <button type="button" className="button button--small button--danger" onClick={() => setRevoking(key)} aria-label={`Revoke ${key.name}`}>
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {creating && <CreateKeyDialog appId={app.sourceAppId} onCreated={created} onClose={() => setCreating(false)} />}
      {revoking && <RevokeDialog apiKey={revoking} onCancel={() => setRevoking(null)} onConfirm={() => revoke(revoking)} />}
    </div>
  );
}

/** The key's form, then the key itself, shown once. */
function CreateKeyDialog({ appId, onCreated, onClose }: { appId: string; onCreated: () => void; onClose: () => void }) {
  const [form, setForm] = useState<KeyForm>(emptyKeyForm);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState<string[]>([]);
  const [key, setKey] = useState<CreatedApiKey | null>(null);
  const details = error instanceof ApiError ? error.details : [];
  const detail = (field: string) => details.find((d) => d.field === field)?.message;
  // `permissions[2]` names the third permission sent: say which one it was.
  const permissionProblems = details
    .filter((d) => d.field === 'permissions' || d.field.startsWith('permissions['))
    .map((d) => {
      const index = /^permissions\[(\d+)\]$/.exec(d.field)?.[1];
      return index !== undefined ? `${sent[Number(index)] ?? d.field}: ${d.message}` : d.message;
    });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = newApiKeyBody(form);
    setSent(body.permissions ?? []);
    try {
      const answer = await api.createApiKey(appId, body);
      setKey(answer);
      onCreated();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  if (key) {
    return (
      <Dialog title={`API key “${key.name}”`} onClose={onClose} modalOnly>
        <ShownOnce
          testId="one-time-key"
          warning="Copy this key now — you will not see it again."
          label={`Key ${key.name}`}
          value={key.key}
          help={`Only a hash is stored; the list shows its prefix, ${key.prefix}…. If it is lost, revoke it and create another.`}
          onDone={onClose}
        >
          Keep it on your server only, never in a page.
        </ShownOnce>
      </Dialog>
    );
  }

  const toggle = (permission: string, on: boolean) =>
    setForm({ ...form, permissions: on ? [...form.permissions, permission] : form.permissions.filter((p) => p !== permission) });
  const otherErrors = details.filter((d) => !['name', 'role', 'expiresAt'].includes(d.field) && !d.field.startsWith('permissions'));
  return (
    <Dialog title="Create API key" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Field label="Name" hint="To tell keys apart, e.g. “CRM sync”." error={detail('name')}>
          {(control) => <input {...control} name="keyName" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} data-autofocus maxLength={100} />}
        </Field>
        <Field label="Role" hint="The key gets the role’s permissions, and those ticked below." error={detail('role')}>
          {(control) => (
            <select {...control} name="keyRole" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
              <option value="">No role: only the permissions below</option>
              {KEY_ROLES.map(({ role, permissions }) => (
                <option key={role} value={role}>{role} ({permissions.join(', ')})</option>
              ))}
            </select>
          )}
        </Field>
        <fieldset className="fieldset">
          <legend>Permissions</legend>
          <div className="check-grid">
            {BUILT_IN_PERMISSIONS.map((permission) => (
              <label key={permission} className="check">
                <input type="checkbox" checked={form.permissions.includes(permission)} onChange={(e) => toggle(permission, e.target.checked)} />
                <code>{permission}</code>
              </label>
            ))}
          </div>
          <Field label="The app’s own permissions" hint="resource:action, separated by commas.">
            {(control) => <input {...control} name="extraPermissions" value={form.extra} onChange={(e) => setForm({ ...form, extra: e.target.value })} placeholder="billing:read, reports:write" autoCapitalize="off" spellCheck={false} />}
          </Field>
          {permissionProblems.length > 0 && (
            <ul className="field-error" data-testid="permission-errors">
              {permissionProblems.map((message) => <li key={message}>{message}</li>)}
            </ul>
          )}
        </fieldset>
        <Field label="Expires on (optional)" hint="The key stops working at the end of that day (UTC). Empty: it never expires." error={detail('expiresAt')}>
          {(control) => <input {...control} type="date" name="expiresOn" value={form.expiresOn} onChange={(e) => setForm({ ...form, expiresOn: e.target.value })} />}
        </Field>
        {error !== null && (!(error instanceof ApiError) || details.length === 0 || otherErrors.length > 0) && <ErrorBanner error={error} />}
        <div className="actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button--primary" disabled={busy || form.name.trim() === ''}>{busy ? 'Creating…' : 'Create key'}</button>
        </div>
      </form>
    </Dialog>
  );
}

function RevokeDialog({ apiKey, onCancel, onConfirm }: { apiKey: ApiKey; onCancel: () => void; onConfirm: () => Promise<void> }) {
  return (
    <ConfirmDialog title="Revoke key?" action="Revoke key" busyAction="Revoking…" onCancel={onCancel} onConfirm={onConfirm}>
      <p>
        <strong>{apiKey.name}</strong> (<code>{apiKey.prefix}…</code>) stops working within a second, everywhere. This cannot be undone.
      </p>
    </ConfirmDialog>
  );
}
