// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Invite, Member, Organization } from '../src/api/types';
import { OrganizationsPanel } from '../src/pages/OrganizationsPanel';
import { app, fakeApi, json } from './fakeApi';

afterEach(cleanup);

const ok = (data: unknown, status = 200) => json(status, { success: true, data });
const fail = (status: number, code: string, message: string, details?: unknown[]) => json(status, { success: false, error: { code, message, details } });

const acme: Organization = { id: 'org_1', name: 'Acme', slug: 'acme', allowed_email_domains: ['acme.example'], created_at: '2026-11-01T00:00:00Z', updated_at: '2026-11-01T00:00:00Z' };
const ada: Member = { id: 'u1', email: 'ada@example.com', name: 'Ada', email_verified: true, disabled: false, role: 'admin', permissions: [], joined_at: '2026-11-02T00:00:00Z' };
const bob: Member = { ...ada, id: 'u2', email: 'bob@example.com', name: 'Bob', role: 'member' };
const pending: Invite = { id: 'inv1', email: 'grace@example.com', role: 'member', message: 'Hi', created_at: '2026-11-30T00:00:00Z', expires_at: '2026-12-07T00:00:00Z' };

describe('organizations panel', () => {
  it('creates an organization: slug_taken next to the slug, 422 details next to their fields', async () => {
    let organizations: Organization[] = [];
    let attempt = 0;
    const calls = fakeApi(({ method, path, body }) => {
      if (method === 'GET' && path.startsWith('/v1/apps/site/organizations?')) return ok({ organizations, next_cursor: null });
      if (method === 'POST' && path === '/v1/apps/site/organizations') {
        attempt += 1;
        if (attempt === 1) return fail(409, 'slug_taken', 'Another organization of this app has this slug');
        if (attempt === 2) return fail(422, 'validation_failed', 'bad', [{ field: 'allowed_email_domains[0]', code: 'domain', message: 'must be a domain name' }]);
        const created = { ...acme, ...(body as Partial<Organization>) };
        organizations = [created];
        return ok(created, 201);
      }
      return undefined;
    });
    render(<OrganizationsPanel app={app} />);
    await screen.findByText('No organizations yet.');
    expect(calls[0]?.path).toBe('/v1/apps/site/organizations?limit=25');
    fireEvent.click(screen.getByRole('button', { name: 'Create organization' }));
    const dialog = screen.getByRole('dialog', { name: 'Create organization' });
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'Acme' } });
    fireEvent.change(within(dialog).getByLabelText('Slug (optional)'), { target: { value: 'acme' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create organization' }));
    expect(await within(dialog).findByText('Another organization of this app has this slug')).toBeTruthy();
    expect(within(dialog).getByLabelText('Slug (optional)').getAttribute('aria-invalid')).toBe('true');
    expect(within(dialog).queryByRole('alert')).toBeNull();

    fireEvent.change(within(dialog).getByLabelText('Slug (optional)'), { target: { value: 'acme-2' } });
    fireEvent.change(within(dialog).getByLabelText('Allowed e-mail domains (optional)'), { target: { value: 'not a domain' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create organization' }));
    expect((await within(dialog).findByTestId('domain-errors')).textContent).toContain('not: must be a domain name');

    fireEvent.change(within(dialog).getByLabelText('Allowed e-mail domains (optional)'), { target: { value: 'acme.example' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create organization' }));
    await screen.findByText('The organization “Acme” was created.');
    expect(calls.filter((c) => c.method === 'POST').at(-1)?.body).toEqual({ name: 'Acme', slug: 'acme-2', allowed_email_domains: ['acme.example'] });
    expect(await within(screen.getByTestId('organizations-table')).findByText('acme-2')).toBeTruthy();
  });

  it('opens one: renames it, changes a role (409 last_admin on its row), removes a member, invites, resends, revokes, deletes after confirmation', async () => {
    let organization = acme;
    let members = [ada, bob];
    let invites = [pending];
    let deleted = false;
    const calls = fakeApi(({ method, path, body }) => {
      if (method === 'GET' && path.startsWith('/v1/apps/site/organizations?')) return ok({ organizations: deleted ? [] : [organization], next_cursor: null });
      if (path === '/v1/apps/site/organizations/org_1') {
        if (method === 'PATCH') {
          organization = { ...organization, ...(body as Partial<Organization>), updated_at: '2026-12-01T00:00:00Z' };
          return ok(organization);
        }
        if (method === 'DELETE') {
          deleted = true;
          return ok({ deleted: true });
        }
      }
      if (method === 'GET' && path.startsWith('/v1/apps/site/organizations/org_1/users')) return ok({ users: members, next_cursor: null });
      if (method === 'PUT' && path === '/v1/apps/site/accounts/u1') return fail(409, 'last_admin', 'An organization must keep at least one admin');
      if (method === 'PUT' && path === '/v1/apps/site/accounts/u2') {
        members = members.map((m) => (m.id === 'u2' ? { ...m, role: (body as { role: Member['role'] }).role } : m));
        return ok({});
      }
      if (method === 'DELETE' && path === '/v1/apps/site/organizations/org_1/users/u2') {
        members = members.filter((m) => m.id !== 'u2');
        return ok({ removed: true });
      }
      if (path === '/v1/apps/site/organizations/org_1/invites') {
        if (method === 'GET') return ok({ invites });
        const sent = body as { email: string; role: Invite['role'] };
        if (sent.email === 'ada@example.com') return fail(409, 'already_member', 'The user is already a member of this organization');
        const invite = { ...pending, id: `inv-${calls.length}`, email: sent.email, role: sent.role };
        invites = [invite, ...invites.filter((i) => i.email !== sent.email)];
        return ok(invite, 201);
      }
      if (method === 'DELETE' && path.startsWith('/v1/apps/site/organizations/org_1/invites/')) {
        invites = invites.filter((i) => !path.endsWith(`/${i.id}`));
        return ok({ deleted: true });
      }
      return undefined;
    });
    render(<OrganizationsPanel app={app} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Acme' }));
    const drawer = await screen.findByRole('dialog', { name: 'Acme' });

    // rename
    fireEvent.change(within(drawer).getByLabelText('Name'), { target: { value: 'Acme Corp' } });
    fireEvent.click(within(drawer).getByRole('button', { name: 'Save' }));
    await screen.findByRole('dialog', { name: 'Acme Corp' });
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ name: 'Acme Corp', slug: 'acme', allowed_email_domains: ['acme.example'] });

    // members: a role change through PUT accounts/{id} in this organization; the last admin stays
    const table = await within(drawer).findByTestId('members-table');
    fireEvent.change(within(table).getByLabelText('Role of bob@example.com'), { target: { value: 'guest' } });
    await within(drawer).findByText('bob@example.com is now guest.');
    expect(calls.find((c) => c.method === 'PUT')?.body).toEqual({ role: 'guest', organization_id: 'org_1' });
    await waitFor(() => expect((within(table).getByLabelText('Role of bob@example.com') as HTMLSelectElement).value).toBe('guest'));
    fireEvent.change(within(table).getByLabelText('Role of ada@example.com'), { target: { value: 'member' } });
    const adaRow = within(table).getByText('ada@example.com').closest('tr') as HTMLElement;
    expect((await within(adaRow).findByRole('alert')).textContent).toContain('An organization must keep at least one admin');
    await waitFor(() => expect((within(table).getByLabelText('Role of ada@example.com') as HTMLSelectElement).value).toBe('admin'));

    fireEvent.click(within(table).getByRole('button', { name: 'Remove bob@example.com' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Remove member?' })).getByRole('button', { name: 'Remove' }));
    await within(drawer).findByText('bob@example.com was removed.');
    await waitFor(() => expect(within(drawer).queryByText('bob@example.com')).toBeNull());

    // invitations: the pending one, a new one, already_member next to the email, resend, revoke
    const pendingTable = await within(drawer).findByTestId('invites-table');
    expect(within(pendingTable).getByText('grace@example.com')).toBeTruthy();
    const form = within(drawer).getByTestId('invite-form');
    fireEvent.change(within(form).getByLabelText('Email'), { target: { value: 'ada@example.com' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Send invitation' }));
    expect(await within(form).findByText('The user is already a member of this organization')).toBeTruthy();
    fireEvent.change(within(form).getByLabelText('Email'), { target: { value: 'hopper@example.com' } });
    fireEvent.change(within(form).getByLabelText('Role'), { target: { value: 'admin' } });
    fireEvent.change(within(form).getByLabelText('Message (optional)'), { target: { value: 'Welcome' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Send invitation' }));
    await within(form).findByText('Invitation sent to hopper@example.com.');
    expect(calls.filter((c) => c.method === 'POST').at(-1)?.body).toEqual({ email: 'hopper@example.com', role: 'admin', message: 'Welcome' });
    await within(drawer).findByText('hopper@example.com');

    fireEvent.click(within(drawer).getByRole('button', { name: 'Resend to grace@example.com' }));
    await within(drawer).findByText(/A new invitation is on its way to grace@example.com/);
    expect(calls.filter((c) => c.method === 'POST').at(-1)?.body).toEqual({ email: 'grace@example.com', role: 'member', message: 'Hi' });

    fireEvent.click(within(drawer).getByRole('button', { name: 'Revoke the invitation of hopper@example.com' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Revoke invitation?' })).getByRole('button', { name: 'Revoke invitation' }));
    await within(drawer).findByText('The invitation of hopper@example.com was revoked.');
    await waitFor(() => expect(within(drawer).queryByText('hopper@example.com')).toBeNull());

    // delete, after confirmation
    fireEvent.click(within(drawer).getByRole('button', { name: 'Delete organization…' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Delete organization?' })).getByRole('button', { name: 'Cancel' }));
    expect(deleted).toBe(false);
    fireEvent.click(within(drawer).getByRole('button', { name: 'Delete organization…' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Delete organization?' })).getByRole('button', { name: 'Delete organization' }));
    await screen.findByText('The organization “Acme Corp” was deleted.');
    await screen.findByText('No organizations yet.');
  });
});
