import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { ORG_ROLES, type Account, type AccountSession, type App, type Organization } from '../api/types';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { Pager } from '../components/Pager';
import { Empty, ErrorBanner, Field, Spinner } from '../components/bits';
import { emptyAccountForm, fieldError, listProblems, needsBanner, newAccountBody, parsePermissions, roleChangesBody, type AccountForm, type RoleForm } from '../lib/accounts';
import { firstPage, hasPrevious, pageNumber, previousPage, type CursorStack } from '../lib/cursorStack';
import { formatDate } from '../lib/format';
import { usePage } from '../lib/usePage';

export const ACCOUNTS_PAGE_SIZE = 25;
/** The organizations offered in the filter and the forms (one page of them). */
const ORGANIZATION_CHOICES = 100;

interface Filters {
  q: string;
  organizationId: string;
  role: string;
}

const noFilters: Filters = { q: '', organizationId: '', role: '' };

/** The app's organizations, for the filter and the forms; [] until they arrive. */
export function useOrganizationChoices(appId: string): Organization[] {
  const [organizations, setOrganizations] = useState<Organization[]>([]);
  useEffect(() => {
    const controller = new AbortController();
    api
      .listOrganizations(appId, { limit: ORGANIZATION_CHOICES }, controller.signal)
      .then((page) => setOrganizations(page.organizations))
      // The list's own error shows what is wrong; the choices stay empty.
      .catch(() => undefined);
    return () => controller.abort();
  }, [appId]);
  return organizations;
}

export function AccountsPanel({ app }: { app: App }) {
  const appId = app.sourceAppId;
  const organizations = useOrganizationChoices(appId);
  const [filters, setFilters] = useState<Filters>(noFilters);
  const [draft, setDraft] = useState<Filters>(noFilters);
  const [stack, setStack] = useState<CursorStack>(firstPage);
  const [reload, setReload] = useState(0);
  const [open, setOpen] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(
    async (signal: AbortSignal) => {
      const page = await api.listAccounts(
        appId,
        {
          limit: ACCOUNTS_PAGE_SIZE,
          ...(stack.current ? { cursor: stack.current } : {}),
          ...(filters.q.trim() ? { q: filters.q.trim() } : {}),
          ...(filters.organizationId ? { organization_id: filters.organizationId } : {}),
          ...(filters.role ? { role: filters.role } : {}),
        },
        signal,
      );
      return { rows: page.users, nextCursor: page.next_cursor };
    },
    // `reload` asks for the same page again (after a change or an erasure).
    [appId, stack, filters, reload],
  );
  const { rows: accounts, next, loading, error } = usePage(load);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draft);
    setStack(firstPage);
  };
  const clear = () => {
    setDraft(noFilters);
    setFilters(noFilters);
    setStack(firstPage);
  };
  const organizationName = (id: string) => organizations.find((o) => o.id === id)?.name ?? id;

  const erased = (account: Account) => {
    setOpen(null);
    setNotice(`${account.email} was erased.`);
    if (accounts && accounts.length === 1 && hasPrevious(stack)) setStack(previousPage(stack));
    else setReload((n) => n + 1);
  };

  const filtered = filters.q !== '' || filters.organizationId !== '' || filters.role !== '';
  const rows = accounts ?? [];
  return (
    <div className="panel" data-testid="accounts">
      <form className="filters" role="search" onSubmit={apply}>
        <label className="field field--grow">
          <span>Search by email or name</span>
          <input type="search" name="accountQuery" value={draft.q} onChange={(e) => setDraft({ ...draft, q: e.target.value })} placeholder="ada@" />
        </label>
        <label className="field">
          <span>Organization</span>
          <select
            name="accountOrganization"
            value={draft.organizationId}
            // An organization role means nothing without its organization.
            onChange={(e) => setDraft({ ...draft, organizationId: e.target.value, role: e.target.value || draft.role === 'tenant_admin' ? draft.role : '' })}
          >
            <option value="">All</option>
            {organizations.map((organization) => (
              <option key={organization.id} value={organization.id}>{organization.name}</option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Role</span>
          <select name="accountRole" value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.target.value })}>
            <option value="">Any</option>
            <option value="tenant_admin">tenant_admin</option>
            {draft.organizationId !== '' && ORG_ROLES.map((role) => <option key={role} value={role}>{role}</option>)}
          </select>
        </label>
        <div className="filters__buttons">
          <button type="submit" className="button button--primary">Search</button>
          {filtered && <button type="button" className="button" onClick={clear}>Clear</button>}
        </div>
        <div className="filters__export">
          <button type="button" className="button" onClick={() => setCreating(true)}>Create account</button>
        </div>
      </form>
      {notice && <p className="banner banner--info" role="status">{notice}</p>}
      <ErrorBanner error={error} />
      <div className={hasPrevious(stack) || next ? 'table-wrap table-wrap--fixed' : 'table-wrap'} aria-busy={loading}>
        <table className="table accounts-table table--cards" data-testid="accounts-table">
          <caption className="visually-hidden">Accounts of {appId}, page {pageNumber(stack)}</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Organizations</th>
              <th scope="col">Verified</th>
              <th scope="col">Last login</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((account) => (
              <tr key={account.id} data-account-id={account.id}>
                <td className="email" data-label="Email">
                  <button type="button" className="link-button" onClick={() => setOpen(account.id)}>{account.email}</button>
                </td>
                <td data-label="Name">{account.name ?? '—'}</td>
                <td className="nowrap" data-label="Role">{account.role ? <span className="tag">{account.role}</span> : '—'}</td>
                <td className="wrap" data-label="Organizations">
                  {account.organizations.length > 0
                    ? account.organizations.map((m) => `${m.name} (${m.role})`).join(', ')
                    : filters.organizationId
                      ? organizationName(filters.organizationId)
                      : '—'}
                </td>
                <td className="nowrap" data-label="Verified">{account.email_verified ? 'Yes' : 'No'}</td>
                <td className="nowrap" data-label="Last login">{account.last_login_at ? formatDate(account.last_login_at) : 'Never'}</td>
                <td className="nowrap" data-label="Status">
                  <AccountStatus account={account} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {loading && accounts === null && <Spinner label="Loading accounts…" />}
        {!loading && rows.length === 0 && !error && (
          <Empty>
            <p>{filtered ? 'No account matches.' : 'No accounts yet. They register through your site, or you create one here with an invitation.'}</p>
          </Empty>
        )}
      </div>
      <Pager stack={stack} next={next} loading={loading} reloading={loading && accounts !== null} onMove={setStack} />
      {open && (
        <AccountDrawer
          appId={appId}
          accountId={open}
          organizations={organizations}
          onChanged={() => setReload((n) => n + 1)}
          onErased={erased}
          onClose={() => setOpen(null)}
        />
      )}
      {creating && (
        <CreateAccountDialog
          appId={appId}
          organizations={organizations}
          onClose={() => setCreating(false)}
          onCreated={(account, invited) => {
            setCreating(false);
            setNotice(invited ? `${account.email} was created; the invitation e-mail is on its way.` : `${account.email} was created.`);
            setReload((n) => n + 1);
          }}
        />
      )}
    </div>
  );
}

function AccountStatus({ account }: { account: Account }) {
  if (account.disabled) return <span className="status status--revoked">Disabled</span>;
  if (!account.has_password) return <span className="status status--pending">Invited</span>;
  return <span className="status status--active">Active</span>;
}

/** One account: its details, memberships, role editor and sessions, and what may be done to it. */
function AccountDrawer({ appId, accountId, organizations, onChanged, onErased, onClose }: {
  appId: string;
  accountId: string;
  organizations: Organization[];
  onChanged: () => void;
  onErased: (account: Account) => void;
  onClose: () => void;
}) {
  const [account, setAccount] = useState<Account | null>(null);
  const [sessions, setSessions] = useState<AccountSession[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [erasing, setErasing] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    Promise.all([api.getAccount(appId, accountId, controller.signal), api.listAccountSessions(appId, accountId, controller.signal)])
      .then(([loaded, loadedSessions]) => {
        setAccount(loaded);
        setSessions(loadedSessions);
      })
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setError(caught);
      });
    return () => controller.abort();
  }, [appId, accountId, reload]);

  const act = async (run: () => Promise<string>) => {
    setBusy(true);
    setActionError(null);
    setNotice(null);
    try {
      setNotice(await run());
      setReload((n) => n + 1);
      onChanged();
    } catch (caught) {
      setActionError(caught);
    } finally {
      setBusy(false);
    }
  };

  const toggleDisabled = (target: Account) =>
    act(async () => {
      await api.updateAccount(appId, target.id, { disabled: !target.disabled });
      return target.disabled ? 'Enabled: the account may log in again.' : 'Disabled: its sessions ended and its logins are refused.';
    });
  const endSessions = (target: Account) =>
    act(async () => {
      const ended = await api.endAccountSessions(appId, target.id);
      return `${ended} session${ended === 1 ? '' : 's'} ended.`;
    });

  return (
    <Dialog title={account?.email ?? 'Account'} variant="drawer" onClose={onClose}>
      <ErrorBanner error={error} />
      {!account && !error && <Spinner label="Loading the account…" />}
      {account && (
        <div data-testid="account-detail">
          <dl className="detail">
            <dt>Name</dt>
            <dd>{account.name ?? '—'}</dd>
            <dt>Status</dt>
            <dd><AccountStatus account={account} /></dd>
            <dt>Email verified</dt>
            <dd>{account.email_verified ? 'Yes' : 'No'}</dd>
            <dt>App-wide role</dt>
            <dd>{account.role ?? '—'}</dd>
            <dt>App-wide permissions</dt>
            <dd>{account.permissions.length > 0 ? account.permissions.join(', ') : '—'}</dd>
            <dt>Last login</dt>
            <dd>{account.last_login_at ? formatDate(account.last_login_at) : 'Never'}</dd>
            <dt>Created</dt>
            <dd>{formatDate(account.created_at)}</dd>
            <dt>Id</dt>
            <dd className="mono small break">{account.id}</dd>
          </dl>
          {notice && <p className="banner banner--info" role="status">{notice}</p>}
          <ErrorBanner error={actionError} />
          <div className="actions actions--start">
            <button type="button" className="button" disabled={busy} onClick={() => void toggleDisabled(account)}>{account.disabled ? 'Enable' : 'Disable'}</button>
            <button type="button" className="button" disabled={busy} onClick={() => void endSessions(account)}>End all sessions</button>
            <button type="button" className="button button--danger" disabled={busy} onClick={() => setErasing(true)}>Erase…</button>
          </div>

          <h3>Memberships</h3>
          {account.organizations.length === 0 ? (
            <p className="muted">In no organization.</p>
          ) : (
            <table className="table table--cards" data-testid="account-memberships">
              <caption className="visually-hidden">Organizations of {account.email}</caption>
              <thead>
                <tr>
                  <th scope="col">Organization</th>
                  <th scope="col">Role</th>
                  <th scope="col">Permissions</th>
                  <th scope="col">Joined</th>
                </tr>
              </thead>
              <tbody>
                {account.organizations.map((membership) => (
                  <tr key={membership.id}>
                    <td data-label="Organization">{membership.name}</td>
                    <td data-label="Role"><span className="tag">{membership.role}</span></td>
                    <td className="wrap" data-label="Permissions">{membership.permissions.join(', ') || '—'}</td>
                    <td className="nowrap" data-label="Joined">{formatDate(membership.joined_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}

          <RoleEditor appId={appId} account={account} organizations={organizations} onSaved={(saved) => { setAccount(saved); onChanged(); }} />

          <h3>Sessions</h3>
          {sessions && sessions.length === 0 && <p className="muted" data-testid="no-sessions">No active sessions.</p>}
          {sessions && sessions.length > 0 && (
            <table className="table table--cards" data-testid="account-sessions">
              <caption className="visually-hidden">Active sessions of {account.email}</caption>
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Last used</th>
                  <th scope="col">From</th>
                </tr>
              </thead>
              <tbody>
                {sessions.map((session) => (
                  <tr key={session.id}>
                    <td className="nowrap" data-label="Started">{formatDate(session.created_at)}</td>
                    <td className="nowrap" data-label="Last used">{session.last_used_at ? formatDate(session.last_used_at) : '—'}</td>
                    <td className="wrap" data-label="From">{[session.ip_address, session.user_agent].filter(Boolean).join(' · ') || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
      {erasing && account && (
        <ConfirmDialog
          title="Erase account?"
          action="Erase account"
          busyAction="Erasing…"
          onCancel={() => setErasing(false)}
          onConfirm={async () => {
            await api.deleteAccount(appId, account.id);
            setErasing(false);
            onErased(account);
          }}
        >
          <p>
            <strong>{account.email}</strong> is erased with its sessions and memberships. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </Dialog>
  );
}

/** Role and permissions: app-wide (tenant_admin, extras) or in one of its organizations. */
function RoleEditor({ appId, account, organizations, onSaved }: { appId: string; account: Account; organizations: Organization[]; onSaved: (account: Account) => void }) {
  const formFor = (scope: string): RoleForm => {
    const membership = account.organizations.find((m) => m.id === scope);
    if (membership) return { scope, role: membership.role, permissions: membership.permissions.join(', ') };
    return { scope, role: scope ? 'member' : (account.role ?? ''), permissions: scope ? '' : account.permissions.join(', ') };
  };
  const [form, setForm] = useState<RoleForm>(() => formFor(account.organizations[0]?.id ?? ''));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [sent, setSent] = useState<string[]>([]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    const body = roleChangesBody(form);
    setSent(body.permissions ?? []);
    try {
      onSaved(await api.updateAccount(appId, account.id, body));
      setSaved(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  // Memberships first, then the app's other organizations (a role there adds the account to it).
  const scopes = [
    ...account.organizations.map((m) => ({ id: m.id, name: m.name })),
    ...organizations.filter((o) => !account.organizations.some((m) => m.id === o.id)).map((o) => ({ id: o.id, name: `${o.name} (not a member)` })),
  ];
  const problems = listProblems(error, 'permissions', sent);
  return (
    <form className="role-editor" onSubmit={(e) => void submit(e)} noValidate data-testid="role-editor">
      <h3>Role and permissions</h3>
      <Field label="Where">
        {(control) => (
          <select {...control} name="roleScope" value={form.scope} onChange={(e) => { setForm(formFor(e.target.value)); setSaved(false); setError(null); }}>
            {scopes.map((scope) => <option key={scope.id} value={scope.id}>{scope.name}</option>)}
            <option value="">The whole app</option>
          </select>
        )}
      </Field>
      <Field label="Role" error={fieldError(error, 'role')}>
        {(control) => (
          <select {...control} name="roleName" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
            {form.scope ? (
              ORG_ROLES.map((role) => <option key={role} value={role}>{role}</option>)
            ) : (
              <>
                <option value="">No app-wide role</option>
                <option value="tenant_admin">tenant_admin (every permission, every organization)</option>
              </>
            )}
          </select>
        )}
      </Field>
      <Field label="Extra permissions" hint="resource:action, separated by commas; on top of the role’s." error={fieldError(error, 'permissions')}>
        {(control) => <input {...control} name="rolePermissions" value={form.permissions} onChange={(e) => setForm({ ...form, permissions: e.target.value })} placeholder="billing:read" autoCapitalize="off" spellCheck={false} />}
      </Field>
      {problems.length > 0 && (
        <ul className="field-error" data-testid="role-permission-errors">
          {problems.map((message) => <li key={message}>{message}</li>)}
        </ul>
      )}
      {needsBanner(error, ['role', 'permissions']) && <ErrorBanner error={error} />}
      <div className="actions actions--start">
        <button type="submit" className="button button--primary" disabled={busy || (!form.scope && form.role === '' && account.role !== null)}>
          {busy ? 'Saving…' : 'Save role'}
        </button>
        {saved && <span role="status" className="muted">Saved.</span>}
      </div>
    </form>
  );
}

function CreateAccountDialog({ appId, organizations, onClose, onCreated }: {
  appId: string;
  organizations: Organization[];
  onClose: () => void;
  onCreated: (account: Account, invited: boolean) => void;
}) {
  const [form, setForm] = useState<AccountForm>(emptyAccountForm);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState<string[]>([]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = newAccountBody(form);
    setSent(body.permissions ?? []);
    try {
      onCreated(await api.createAccount(appId, body), form.sendInvite);
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };
  const problems = listProblems(error, 'permissions', sent);
  return (
    <Dialog title="Create account" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Field label="Email" error={fieldError(error, 'email')}>
          {(control) => <input {...control} type="email" name="accountEmail" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} data-autofocus autoComplete="off" />}
        </Field>
        <Field label="Name (optional)" error={fieldError(error, 'name')}>
          {(control) => <input {...control} name="accountName" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />}
        </Field>
        <Field label="Organization (optional)" error={fieldError(error, 'organization_id')}>
          {(control) => (
            <select {...control} name="accountOrganizationId" value={form.organizationId} onChange={(e) => setForm({ ...form, organizationId: e.target.value, role: e.target.value ? 'member' : '' })}>
              <option value="">None</option>
              {organizations.map((organization) => <option key={organization.id} value={organization.id}>{organization.name}</option>)}
            </select>
          )}
        </Field>
        <Field label="Role" error={fieldError(error, 'role')}>
          {(control) => (
            <select {...control} name="accountRoleName" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
              {form.organizationId ? (
                ORG_ROLES.map((role) => <option key={role} value={role}>{role}</option>)
              ) : (
                <>
                  <option value="">None</option>
                  <option value="tenant_admin">tenant_admin</option>
                </>
              )}
            </select>
          )}
        </Field>
        <Field label="Extra permissions (optional)" hint="resource:action, separated by commas." error={fieldError(error, 'permissions')}>
          {(control) => <input {...control} name="accountPermissions" value={form.permissions} onChange={(e) => setForm({ ...form, permissions: e.target.value })} autoCapitalize="off" spellCheck={false} />}
        </Field>
        {problems.length > 0 && (
          <ul className="field-error" data-testid="account-permission-errors">
            {problems.map((message) => <li key={message}>{message}</li>)}
          </ul>
        )}
        <label className="check">
          <input type="checkbox" name="sendInvite" checked={form.sendInvite} onChange={(e) => setForm({ ...form, sendInvite: e.target.checked })} />
          Send an invitation e-mail (its link sets the password)
        </label>
        {needsBanner(error, ['email', 'name', 'organization_id', 'role', 'permissions']) && <ErrorBanner error={error} />}
        <div className="actions">
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="button button--primary" disabled={busy || form.email.trim() === '' || parsePermissions(form.permissions).length > 64}>
            {busy ? 'Creating…' : 'Create account'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
