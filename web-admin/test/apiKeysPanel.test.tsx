// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiKey } from '../src/api/types';
import { ApiKeysPanel } from '../src/pages/ApiKeysPanel';
import { app, fakeApi, json } from './fakeApi';

afterEach(cleanup);

const stored: ApiKey = {
  id: 'key_old',
  name: 'Old key',
  prefix: 'uak_OLD1',
  role: null,
  permissions: ['records:read'],
  expiresAt: null,
  lastUsedAt: '2026-11-20T10:00:00Z',
  createdAt: '2026-11-01T00:00:00Z',
  revokedAt: null,
};

describe('API keys panel', () => {
  it('creates a key, shows it once with a copy button, and lists it by prefix only', async () => {
    let keys: ApiKey[] = [stored, { ...stored, id: 'key_gone', name: 'Gone', revokedAt: '2026-11-10T00:00:00Z' }];
    const calls = fakeApi(({ method, path, body }) => {
      if (method === 'GET' && path === '/v1/apps/site/api-keys') return json(200, { keys });
      if (method === 'POST' && path === '/v1/apps/site/api-keys') {
        const created = { ...stored, id: 'key_new', name: (body as { name: string }).name, prefix: 'uak_NEW1', role: 'member', permissions: ['users:read', 'organizations:read', 'billing:read'], lastUsedAt: null };
        keys = [created, ...keys];
        return json(201, { ...created, key: 'uak_NEW1-the-whole-secret' });
      }
      return undefined;
    });
    render(<ApiKeysPanel app={app} />);
    const table = await screen.findByTestId('keys-table');
    expect(within(table).getByText('Old key')).toBeTruthy();
    expect(within(table).getByText('Revoked')).toBeTruthy();
    // A revoked key cannot be revoked again.
    expect(screen.queryByRole('button', { name: 'Revoke Gone' })).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    const dialog = screen.getByRole('dialog', { name: 'Create API key' });
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'CRM sync' } });
    fireEvent.change(within(dialog).getByLabelText('Role'), { target: { value: 'member' } });
    fireEvent.change(within(dialog).getByLabelText('The app’s own permissions'), { target: { value: 'billing:read' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create key' }));

    const secret = await screen.findByTestId('one-time-key');
    expect(secret.textContent).toContain('you will not see it again');
    expect((within(secret).getByLabelText('Key CRM sync') as HTMLInputElement).value).toBe('uak_NEW1-the-whole-secret');
    expect(within(secret).getByRole('button', { name: 'Copy' })).toBeTruthy();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'CRM sync', role: 'member', permissions: ['billing:read'] });

    fireEvent.click(screen.getByRole('button', { name: 'I have copied it' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    await screen.findByText('CRM sync');
    expect(screen.getByText('uak_NEW1…')).toBeTruthy();
    expect(document.body.textContent).not.toContain('the-whole-secret');
  });

  it('shows 422 details next to their fields, naming the permission at fault', async () => {
    fakeApi(({ method }) => {
      if (method === 'GET') return json(200, { keys: [] });
      return json(422, {
        error: {
          code: 'validation_failed',
          message: 'permissions[1] must be resource:action (and 1 more)',
          details: [
            { field: 'permissions[1]', code: 'format', message: 'must be resource:action in lower case (e.g. billing:read)' },
            { field: 'expiresAt', code: 'range', message: 'must be in the future' },
          ],
        },
      });
    });
    render(<ApiKeysPanel app={app} />);
    await screen.findByText('No API keys yet.');
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    const dialog = screen.getByRole('dialog', { name: 'Create API key' });
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'bad' } });
    fireEvent.click(within(dialog).getByLabelText('users:read'));
    fireEvent.change(within(dialog).getByLabelText('The app’s own permissions'), { target: { value: 'Billing' } });
    fireEvent.change(within(dialog).getByLabelText('Expires on (optional)'), { target: { value: '2020-01-01' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create key' }));
    expect((await within(dialog).findByTestId('permission-errors')).textContent).toBe('Billing: must be resource:action in lower case (e.g. billing:read)');
    expect(within(dialog).getByText('must be in the future')).toBeTruthy();
    expect(within(dialog).getByLabelText('Expires on (optional)').getAttribute('aria-invalid')).toBe('true');
  });

  it('revokes a key only after confirmation', async () => {
    let revoked = false;
    const calls = fakeApi(({ method, path }) => {
      if (method === 'GET') return json(200, { keys: [revoked ? { ...stored, revokedAt: '2026-12-01T00:00:00Z' } : stored] });
      if (method === 'DELETE' && path === '/v1/apps/site/api-keys/key_old') {
        revoked = true;
        return json(204);
      }
      return undefined;
    });
    render(<ApiKeysPanel app={app} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke Old key' }));
    const dialog = screen.getByRole('dialog', { name: 'Revoke key?' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Revoke Old key' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Revoke key?' })).getByRole('button', { name: 'Revoke key' }));
    await screen.findByText('The key “Old key” was revoked.');
    await screen.findByText('Revoked');
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
  });
});
