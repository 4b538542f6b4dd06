// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Account } from '../src/api/types';
import { AccountsPanel } from '../src/pages/AccountsPanel';
import { app, fakeApi, json } from './fakeApi';

afterEach(cleanup);

const ok = (data: unknown) => json(200, { success: true, data });
const fail = (status: number, code: string, message: string, details?: unknown[]) => json(status, { success: false, error: { code, message, details } });

const organization = { id: 'org_1', name: 'Acme', slug: 'acme', allowed_email_domains: [], created_at: '2026-11-01T00:00:00Z', updated_at: '2026-11-01T00:00:00Z' };

function account(n: number, changes: Partial<Account> = {}): Account {
  return {
    id: `u${n}`,
    email: `user${n}@example.com`,
    name: `User ${n}`,
    email_verified: true,
    disabled: false,
    role: null,
    permissions: [],
    has_password: true,
    organizations: [],
    created_at: '2026-11-01T00:00:00Z',
    updated_at: '2026-11-01T00:00:00Z',
    last_login_at: '2026-11-30T10:00:00Z',
    ...changes,
  };
}

describe('accounts panel', () => {
  it('lists, searches by email and organization, and pages', async () => {
    const calls = fakeApi(({ method, path }) => {
      const url = new URL(path, 'http://x');
      if (url.pathname === '/v1/apps/site/organizations') return ok({ organizations: [organization], next_cursor: null });
      if (method !== 'GET' || url.pathname !== '/v1/apps/site/accounts') return undefined;
      if (url.searchParams.get('q') === 'ada') return ok({ users: [account(7, { email: 'ada@example.com', disabled: true, role: 'tenant_admin', email_verified: false, last_login_at: null })], next_cursor: null });
      if (url.searchParams.get('cursor') === 'c2') return ok({ users: [account(3)], next_cursor: null });
      return ok({ users: [account(1), account(2)], next_cursor: 'c2' });
    });
    render(<AccountsPanel app={app} />);
    const table = await screen.findByTestId('accounts-table');
    await within(table).findByText('user1@example.com');
    expect(calls.find((c) => c.path.startsWith('/v1/apps/site/accounts'))?.path).toBe('/v1/apps/site/accounts?limit=25');

    fireEvent.click(screen.getByRole('button', { name: 'Next →' }));
    await within(table).findByText('user3@example.com');
    expect(calls.at(-1)?.path).toBe('/v1/apps/site/accounts?limit=25&cursor=c2');

    fireEvent.change(screen.getByLabelText('Search by email or name'), { target: { value: 'ada' } });
    await screen.findByRole('option', { name: 'Acme' });
    fireEvent.change(screen.getByLabelText('Organization'), { target: { value: 'org_1' } });
    fireEvent.change(screen.getByLabelText('Role'), { target: { value: 'member' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    const row = (await within(table).findByText('ada@example.com')).closest('tr') as HTMLElement;
    expect(calls.at(-1)?.path).toBe('/v1/apps/site/accounts?limit=25&q=ada&organization_id=org_1&role=member');
    expect(within(row).getByText('Disabled')).toBeTruthy();
    expect(within(row).getByText('tenant_admin')).toBeTruthy();
    expect(within(row).getByText('Never')).toBeTruthy();
    expect(within(row).getByText('Acme')).toBeTruthy();
  });

  it('creates an account with an invitation; 409 email_taken and 422 details next to their fields', async () => {
    let attempt = 0;
    const calls = fakeApi(({ method, path }) => {
      if (path.startsWith('/v1/apps/site/organizations')) return ok({ organizations: [organization], next_cursor: null });
      if (method === 'GET') return ok({ users: [], next_cursor: null });
      if (method === 'POST' && path === '/v1/apps/site/accounts') {
        attempt += 1;
        if (attempt === 1) return fail(409, 'email_taken', 'An account with this email exists');
        if (attempt === 2) return fail(422, 'validation_failed', 'permissions[0] names a built-in resource', [{ field: 'permissions[0]', code: 'reserved', message: 'names a built-in resource with an action that is not built in' }]);
        return json(201, { success: true, data: { user: account(9, { email: 'grace@example.com', has_password: false }) } });
      }
      return undefined;
    });
    render(<AccountsPanel app={app} />);
    await screen.findByText(/No accounts yet/);
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    const dialog = screen.getByRole('dialog', { name: 'Create account' });
    await within(dialog).findByRole('option', { name: 'Acme' });
    fireEvent.change(within(dialog).getByLabelText('Email'), { target: { value: 'grace@example.com' } });
    fireEvent.change(within(dialog).getByLabelText('Organization (optional)'), { target: { value: 'org_1' } });
    fireEvent.change(within(dialog).getByLabelText('Role'), { target: { value: 'admin' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create account' }));
    expect(await within(dialog).findByText('An account with this email exists')).toBeTruthy();
    expect(within(dialog).getByLabelText('Email').getAttribute('aria-invalid')).toBe('true');
    expect(within(dialog).queryByRole('alert')).toBeNull();

    fireEvent.change(within(dialog).getByLabelText('Extra permissions (optional)'), { target: { value: 'users:*' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create account' }));
    expect((await within(dialog).findByTestId('account-permission-errors')).textContent).toBe('users:*: names a built-in resource with an action that is not built in');

    fireEvent.change(within(dialog).getByLabelText('Extra permissions (optional)'), { target: { value: '' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create account' }));
    await screen.findByText('grace@example.com was created; the invitation e-mail is on its way.');
    expect(calls.filter((c) => c.method === 'POST').at(-1)?.body).toEqual({ email: 'grace@example.com', organization_id: 'org_1', role: 'admin', send_invite: true });
  });

  it('opens an account: memberships and sessions; disables it, ends its sessions, changes its role, erases it after confirmation', async () => {
    let stored = account(1, { organizations: [{ id: 'org_1', name: 'Acme', slug: 'acme', role: 'admin', permissions: [], joined_at: '2026-11-02T00:00:00Z' }] });
    let erased = false;
    const calls = fakeApi(({ method, path, body }) => {
      if (path.startsWith('/v1/apps/site/organizations')) return ok({ organizations: [organization], next_cursor: null });
      if (method === 'GET' && path.startsWith('/v1/apps/site/accounts?')) return ok({ users: erased ? [] : [stored], next_cursor: null });
      if (path === '/v1/apps/site/accounts/u1/sessions') {
        if (method === 'DELETE') return ok({ ended: 2 });
        return ok({ sessions: [{ id: 's1', created_at: '2026-11-30T09:00:00Z', last_used_at: '2026-11-30T10:00:00Z', expires_at: null, ip_address: '203.0.113.9', user_agent: 'Firefox' }] });
      }
      if (path === '/v1/apps/site/accounts/u1') {
        if (method === 'GET') return ok(stored);
        if (method === 'DELETE') {
          erased = true;
          return ok({ deleted: true });
        }
        if (method === 'PUT') {
          const changes = body as { disabled?: boolean; role?: string };
          if (changes.role === 'member') return fail(409, 'last_admin', 'An organization must keep at least one admin');
          stored = { ...stored, ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}) };
          return ok(stored);
        }
      }
      return undefined;
    });
    render(<AccountsPanel app={app} />);
    fireEvent.click(await screen.findByRole('button', { name: 'user1@example.com' }));
    const drawer = await screen.findByRole('dialog', { name: 'user1@example.com' });
    const memberships = await within(drawer).findByTestId('account-memberships');
    expect(within(memberships).getByText('Acme')).toBeTruthy();
    expect(within(memberships).getByText('admin')).toBeTruthy();
    expect(within(within(drawer).getByTestId('account-sessions')).getByText('203.0.113.9 · Firefox')).toBeTruthy();

    fireEvent.click(within(drawer).getByRole('button', { name: 'Disable' }));
    await within(drawer).findByText('Disabled: its sessions ended and its logins are refused.');
    await within(drawer).findByRole('button', { name: 'Enable' });
    expect(calls.find((c) => c.method === 'PUT')?.body).toEqual({ disabled: true });

    fireEvent.click(within(drawer).getByRole('button', { name: 'End all sessions' }));
    await within(drawer).findByText('2 sessions ended.');

    // a demotion of the last admin: 409 last_admin, said in the role editor
    const editor = within(drawer).getByTestId('role-editor');
    fireEvent.change(within(editor).getByLabelText('Role'), { target: { value: 'member' } });
    fireEvent.click(within(editor).getByRole('button', { name: 'Save role' }));
    expect((await within(editor).findByRole('alert')).textContent).toContain('An organization must keep at least one admin');
    expect(calls.filter((c) => c.method === 'PUT').at(-1)?.body).toEqual({ role: 'member', organization_id: 'org_1', permissions: [] });

    fireEvent.click(within(drawer).getByRole('button', { name: 'Erase…' }));
    const confirm = screen.getByRole('dialog', { name: 'Erase account?' });
    fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(calls.some((c) => c.method === 'DELETE' && c.path === '/v1/apps/site/accounts/u1')).toBe(false);
    fireEvent.click(within(drawer).getByRole('button', { name: 'Erase…' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Erase account?' })).getByRole('button', { name: 'Erase account' }));
    await screen.findByText('user1@example.com was erased.');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls.filter((c) => c.method === 'DELETE' && c.path === '/v1/apps/site/accounts/u1')).toHaveLength(1);
  });

  it('shows a 403 where the list would be', async () => {
    fakeApi(({ path }) => {
      if (path.startsWith('/v1/apps/site/organizations')) return ok({ organizations: [], next_cursor: null });
      return fail(403, 'forbidden', 'This needs the users:read permission');
    });
    render(<AccountsPanel app={app} />);
    expect((await screen.findByRole('alert')).textContent).toContain('This needs the users:read permission');
  });
});
