import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { ORG_ROLES, type App, type Invite, type Member, type Organization, type OrgRole } from '../api/types';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { Pager } from '../components/Pager';
import { Empty, ErrorBanner, Field, Spinner } from '../components/bits';
import { emptyInviteForm, emptyOrganizationForm, fieldError, inviteBody, listProblems, needsBanner, organizationBody, parseDomains, type InviteForm, type OrganizationForm } from '../lib/accounts';
import { firstPage, hasPrevious, pageNumber, previousPage, type CursorStack } from '../lib/cursorStack';
import { formatDate } from '../lib/format';
import { usePage } from '../lib/usePage';

export const ORGANIZATIONS_PAGE_SIZE = 25;
export const MEMBERS_PAGE_SIZE = 25;

export function OrganizationsPanel({ app }: { app: App }) {
  const appId = app.sourceAppId;
  const [stack, setStack] = useState<CursorStack>(firstPage);
  const [reload, setReload] = useState(0);
  const [open, setOpen] = useState<Organization | null>(null);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(
    async (signal: AbortSignal) => {
      const page = await api.listOrganizations(appId, { limit: ORGANIZATIONS_PAGE_SIZE, ...(stack.current ? { cursor: stack.current } : {}) }, signal);
      return { rows: page.organizations, nextCursor: page.next_cursor };
    },
    [appId, stack, reload],
  );
  const { rows: organizations, next, loading, error } = usePage(load);

  const deleted = (organization: Organization) => {
    setOpen(null);
    setNotice(`The organization “${organization.name}” was deleted.`);
    if (organizations && organizations.length === 1 && hasPrevious(stack)) setStack(previousPage(stack));
    else setReload((n) => n + 1);
  };

  const rows = organizations ?? [];
  return (
    <div className="panel" data-testid="organizations">
      <div className="page-head">
        <p className="hint panel-intro">
          Your accounts’ organizations: each membership has a role (admin, member, guest) and extra permissions; an organization always keeps an admin.
        </p>
        <button type="button" className="button button--primary" onClick={() => setCreating(true)}>Create organization</button>
      </div>
      {notice && <p className="banner banner--info" role="status">{notice}</p>}
      <ErrorBanner error={error} />
      <div className="table-wrap" aria-busy={loading}>
        <table className="table orgs-table table--cards" data-testid="organizations-table">
          <caption className="visually-hidden">Organizations of {appId}, page {pageNumber(stack)}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Slug</th>
              <th scope="col">Allowed e-mail domains</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((organization) => (
              <tr key={organization.id} data-organization-id={organization.id}>
                <td className="strong" data-label="Name">
                  <button type="button" className="link-button" onClick={() => setOpen(organization)}>{organization.name}</button>
                </td>
                <td className="mono" data-label="Slug">{organization.slug}</td>
                <td className="wrap" data-label="Domains">{organization.allowed_email_domains.join(', ') || '—'}</td>
                <td className="nowrap" data-label="Created">{formatDate(organization.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {loading && organizations === null && <Spinner label="Loading organizations…" />}
        {!loading && rows.length === 0 && !error && (
          <Empty>
            <p>No organizations yet.</p>
          </Empty>
        )}
      </div>
      <Pager stack={stack} next={next} loading={loading} reloading={loading && organizations !== null} onMove={setStack} />
      {open && (
        <OrganizationDrawer
          appId={appId}
          organization={open}
          onRenamed={(renamed) => {
            setOpen(renamed);
            setReload((n) => n + 1);
          }}
          onDeleted={deleted}
          onClose={() => setOpen(null)}
        />
      )}
      {creating && (
        <Dialog title="Create organization" onClose={() => setCreating(false)}>
          <OrganizationFormView
            submitLabel="Create organization"
            busyLabel="Creating…"
            initial={emptyOrganizationForm}
            save={(form) => api.createOrganization(appId, organizationBody(form))}
            onSaved={(created) => {
              setCreating(false);
              setNotice(`The organization “${created.name}” was created.`);
              setReload((n) => n + 1);
            }}
            onCancel={() => setCreating(false)}
          />
        </Dialog>
      )}
    </div>
  );
}

/** Name, slug and allowed domains: creating one, or renaming it. */
function OrganizationFormView({ submitLabel, busyLabel, initial, save, onSaved, onCancel }: {
  submitLabel: string;
  busyLabel: string;
  initial: OrganizationForm;
  save: (form: OrganizationForm) => Promise<Organization>;
  onSaved: (organization: Organization) => void;
  onCancel?: () => void;
}) {
  const [form, setForm] = useState<OrganizationForm>(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState<string[]>([]);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSent(parseDomains(form.domains));
    try {
      onSaved(await save(form));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const domainProblems = listProblems(error, 'allowed_email_domains', sent);
  return (
    <form onSubmit={(e) => void submit(e)} noValidate data-testid="organization-form">
      <Field label="Name" error={fieldError(error, 'name')}>
        {(control) => <input {...control} name="organizationName" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} data-autofocus maxLength={100} />}
      </Field>
      <Field label="Slug (optional)" hint="Unique in the app; made from the name when empty." error={fieldError(error, 'slug')}>
        {(control) => <input {...control} name="organizationSlug" value={form.slug} onChange={(e) => setForm({ ...form, slug: e.target.value })} autoCapitalize="off" spellCheck={false} />}
      </Field>
      <Field label="Allowed e-mail domains (optional)" hint="Addresses of these domains may register into it once verified; separated by commas." error={fieldError(error, 'allowed_email_domains')}>
        {(control) => <input {...control} name="organizationDomains" value={form.domains} onChange={(e) => setForm({ ...form, domains: e.target.value })} placeholder="acme.example" autoCapitalize="off" spellCheck={false} />}
      </Field>
      {domainProblems.length > 0 && (
        <ul className="field-error" data-testid="domain-errors">
          {domainProblems.map((message) => <li key={message}>{message}</li>)}
        </ul>
      )}
      {needsBanner(error, ['name', 'slug', 'allowed_email_domains']) && <ErrorBanner error={error} />}
      <div className="actions">
        {onCancel && <button type="button" className="button" onClick={onCancel}>Cancel</button>}
        <button type="submit" className="button button--primary" disabled={busy || form.name.trim() === ''}>{busy ? busyLabel : submitLabel}</button>
      </div>
    </form>
  );
}

function OrganizationDrawer({ appId, organization, onRenamed, onDeleted, onClose }: {
  appId: string;
  organization: Organization;
  onRenamed: (organization: Organization) => void;
  onDeleted: (organization: Organization) => void;
  onClose: () => void;
}) {
  const [deleting, setDeleting] = useState(false);
  const [saved, setSaved] = useState(false);
  // Sending an invitation shows it in the pending list.
  const [invitesVersion, setInvitesVersion] = useState(0);
  return (
    <Dialog title={organization.name} variant="drawer" onClose={onClose}>
      <div data-testid="organization-detail">
        <p className="muted small mono break">{organization.id}</p>
        <h3>Name and domains</h3>
        <OrganizationFormView
          key={organization.updated_at}
          submitLabel="Save"
          busyLabel="Saving…"
          initial={{ name: organization.name, slug: organization.slug, domains: organization.allowed_email_domains.join(', ') }}
          save={(form) => api.updateOrganization(appId, organization.id, organizationBody(form))}
          onSaved={(renamed) => {
            setSaved(true);
            onRenamed(renamed);
          }}
        />
        {saved && <p role="status" className="muted">Saved.</p>}

        <Members appId={appId} organizationId={organization.id} />
        <Invitations appId={appId} organizationId={organization.id} version={invitesVersion} />
        <InviteFormView appId={appId} organizationId={organization.id} onInvited={() => setInvitesVersion((n) => n + 1)} />

        <div className="danger-zone__row">
          <p>Deleting it ends its memberships and invitations; the accounts stay.</p>
          <button type="button" className="button button--danger" onClick={() => setDeleting(true)}>Delete organization…</button>
        </div>
      </div>
      {deleting && (
        <ConfirmDialog
          title="Delete organization?"
          action="Delete organization"
          busyAction="Deleting…"
          onCancel={() => setDeleting(false)}
          onConfirm={async () => {
            await api.deleteOrganization(appId, organization.id);
            setDeleting(false);
            onDeleted(organization);
          }}
        >
          <p>
            <strong>{organization.name}</strong> (<code>{organization.slug}</code>) is deleted with its memberships. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </Dialog>
  );
}

/** The members with their roles: change one (PUT accounts/{id} in this organization), remove one. */
function Members({ appId, organizationId }: { appId: string; organizationId: string }) {
  const [stack, setStack] = useState<CursorStack>(firstPage);
  const [reload, setReload] = useState(0);
  const [removing, setRemoving] = useState<Member | null>(null);
  const [rowError, setRowError] = useState<{ id: string; error: unknown } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const load = useCallback(
    async (signal: AbortSignal) => {
      const page = await api.listMembers(appId, organizationId, { limit: MEMBERS_PAGE_SIZE, ...(stack.current ? { cursor: stack.current } : {}) }, signal);
      return { rows: page.users, nextCursor: page.next_cursor };
    },
    [appId, organizationId, stack, reload],
  );
  const { rows: members, next, loading, error } = usePage(load);

  const changeRole = async (member: Member, role: OrgRole) => {
    setRowError(null);
    setNotice(null);
    try {
      await api.updateAccount(appId, member.id, { role, organization_id: organizationId });
      setNotice(`${member.email} is now ${role}.`);
    } catch (caught) {
      setRowError({ id: member.id, error: caught });
    }
    setReload((n) => n + 1);
  };
  const remove = async (member: Member) => {
    setRowError(null);
    try {
      await api.removeMember(appId, organizationId, member.id);
      setNotice(`${member.email} was removed.`);
    } catch (caught) {
      setRowError({ id: member.id, error: caught });
    }
    setRemoving(null);
    setReload((n) => n + 1);
  };

  const rows = members ?? [];
  return (
    <section aria-labelledby={`members-${organizationId}`}>
      <h3 id={`members-${organizationId}`}>Members</h3>
      {notice && <p className="banner banner--info" role="status">{notice}</p>}
      <ErrorBanner error={error} />
      {loading && members === null && <Spinner label="Loading members…" />}
      {members !== null && rows.length === 0 && <p className="muted">No members yet.</p>}
      {rows.length > 0 && (
        <table className="table table--cards members-table" data-testid="members-table">
          <caption className="visually-hidden">Members, page {pageNumber(stack)}</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Permissions</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {rows.map((member) => (
              <tr key={member.id} data-member-id={member.id}>
                <td className="email" data-label="Email">
                  {member.email}
                  {member.disabled && <span className="status status--revoked"> Disabled</span>}
                  {rowError?.id === member.id && <ErrorBanner error={rowError.error} />}
                </td>
                <td data-label="Role">
                  <select aria-label={`Role of ${member.email}`} value={member.role} onChange={(e) => void changeRole(member, e.target.value as OrgRole)}>
                    {ORG_ROLES.map((role) => <option key={role} value={role}>{role}</option>)}
                  </select>
                </td>
                <td className="wrap" data-label="Permissions">{member.permissions.join(', ') || '—'}</td>
                <td className="row-actions">
                  <button type="button" className="button button--small button--danger" onClick={() => setRemoving(member)} aria-label={`Remove ${member.email}`}>Remove</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(hasPrevious(stack) || next) && <Pager stack={stack} next={next} loading={loading} reloading={loading && members !== null} onMove={setStack} />}
      {removing && (
        <ConfirmDialog title="Remove member?" action="Remove" busyAction="Removing…" onCancel={() => setRemoving(null)} onConfirm={() => remove(removing)}>
          <p><strong>{removing.email}</strong> leaves the organization; the account stays.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** Pending invitations: resend (invite the same address again: it replaces the pending one) or revoke. */
function Invitations({ appId, organizationId, version }: { appId: string; organizationId: string; version: number }) {
  const [invites, setInvites] = useState<Invite[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const [revoking, setRevoking] = useState<Invite | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    api
      .listInvites(appId, organizationId, controller.signal)
      .then((loaded) => {
        setInvites(loaded);
        setError(null);
      })
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setError(caught);
      });
    return () => controller.abort();
  }, [appId, organizationId, reload, version]);

  const resend = async (invite: Invite) => {
    setError(null);
    try {
      await api.invite(appId, organizationId, { email: invite.email, role: invite.role, ...(invite.message ? { message: invite.message } : {}) });
      setNotice(`A new invitation is on its way to ${invite.email}; the older link stops working.`);
    } catch (caught) {
      setError(caught);
    }
    setReload((n) => n + 1);
  };
  const revoke = async (invite: Invite) => {
    await api.revokeInvite(appId, organizationId, invite.id);
    setRevoking(null);
    setNotice(`The invitation of ${invite.email} was revoked.`);
    setReload((n) => n + 1);
  };

  return (
    <section aria-labelledby={`invites-${organizationId}`}>
      <h3 id={`invites-${organizationId}`}>Pending invitations</h3>
      {notice && <p className="banner banner--info" role="status">{notice}</p>}
      <ErrorBanner error={error} />
      {invites === null && !error && <Spinner label="Loading invitations…" />}
      {invites !== null && invites.length === 0 && <p className="muted">No pending invitations.</p>}
      {invites !== null && invites.length > 0 && (
        <table className="table table--cards invites-table" data-testid="invites-table">
          <caption className="visually-hidden">Pending invitations</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Expires</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {invites.map((invite) => (
              <tr key={invite.id} data-invite-id={invite.id}>
                <td className="email" data-label="Email">{invite.email}</td>
                <td data-label="Role"><span className="tag">{invite.role}</span></td>
                <td className="nowrap" data-label="Expires">{formatDate(invite.expires_at)}</td>
                <td className="row-actions">
                  <button type="button" className="button button--small" onClick={() => void resend(invite)} aria-label={`Resend to ${invite.email}`}>Resend</button>{' '}
                  <button type="button" className="button button--small button--danger" onClick={() => setRevoking(invite)} aria-label={`Revoke the invitation of ${invite.email}`}>Revoke</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {revoking && (
        <ConfirmDialog title="Revoke invitation?" action="Revoke invitation" busyAction="Revoking…" onCancel={() => setRevoking(null)} onConfirm={() => revoke(revoking)}>
          <p>The link sent to <strong>{revoking.email}</strong> stops working.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function InviteFormView({ appId, organizationId, onInvited }: { appId: string; organizationId: string; onInvited: () => void }) {
  const [form, setForm] = useState<InviteForm>(emptyInviteForm);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSentTo(null);
    try {
      const invite = await api.invite(appId, organizationId, inviteBody(form));
      setSentTo(invite.email);
      setForm(emptyInviteForm);
      onInvited();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="invite-form" onSubmit={(e) => void submit(e)} noValidate data-testid="invite-form">
      <h3>Invite someone</h3>
      <Field label="Email" error={fieldError(error, 'email')}>
        {(control) => <input {...control} type="email" name="inviteEmail" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} autoComplete="off" />}
      </Field>
      <Field label="Role" error={fieldError(error, 'role')}>
        {(control) => (
          <select {...control} name="inviteRole" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as OrgRole })}>
            {ORG_ROLES.map((role) => <option key={role} value={role}>{role}</option>)}
          </select>
        )}
      </Field>
      <Field label="Message (optional)" hint="Put into the invitation e-mail." error={fieldError(error, 'message')}>
        {(control) => <textarea {...control} name="inviteMessage" rows={2} value={form.message} onChange={(e) => setForm({ ...form, message: e.target.value })} />}
      </Field>
      {needsBanner(error, ['email', 'role', 'message']) && <ErrorBanner error={error} />}
      {sentTo && <p role="status" className="banner banner--info">Invitation sent to {sentTo}.</p>}
      <div className="actions actions--start">
        <button type="submit" className="button button--primary" disabled={busy || form.email.trim() === ''}>{busy ? 'Inviting…' : 'Send invitation'}</button>
      </div>
    </form>
  );
}
