import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/api/client';
import { emptyAccountForm, fieldError, inviteBody, listProblems, needsBanner, newAccountBody, organizationBody, parsePermissions, roleChangesBody } from '../src/lib/accounts';

describe('accounts screens’ rules', () => {
  it('reads permissions and domains separated by commas, spaces or lines, once each', () => {
    expect(parsePermissions(' billing:read,reports:write\nbilling:read  ')).toEqual(['billing:read', 'reports:write']);
    expect(parsePermissions('')).toEqual([]);
  });

  it('sends only what the forms fill in', () => {
    expect(newAccountBody({ ...emptyAccountForm, email: ' ada@example.com ' })).toEqual({ email: 'ada@example.com', send_invite: true });
    expect(newAccountBody({ email: 'a@b.c', name: ' Ada ', organizationId: 'org_1', role: 'admin', permissions: 'billing:read', sendInvite: false })).toEqual({
      email: 'a@b.c',
      name: 'Ada',
      organization_id: 'org_1',
      role: 'admin',
      permissions: ['billing:read'],
      send_invite: false,
    });
    expect(roleChangesBody({ scope: 'org_1', role: 'guest', permissions: '' })).toEqual({ role: 'guest', organization_id: 'org_1', permissions: [] });
    expect(roleChangesBody({ scope: '', role: 'tenant_admin', permissions: 'x:y' })).toEqual({ role: 'tenant_admin', permissions: ['x:y'] });
    expect(organizationBody({ name: ' Acme ', slug: '', domains: 'acme.example, b.example' })).toEqual({ name: 'Acme', allowed_email_domains: ['acme.example', 'b.example'] });
    expect(organizationBody({ name: 'Acme', slug: 'acme', domains: '' })).toEqual({ name: 'Acme', slug: 'acme', allowed_email_domains: [] });
    expect(inviteBody({ email: 'g@x.y', role: 'member', message: '  ' })).toEqual({ email: 'g@x.y', role: 'member' });
    expect(inviteBody({ email: 'g@x.y', role: 'admin', message: 'Hi' })).toEqual({ email: 'g@x.y', role: 'admin', message: 'Hi' });
  });

  it('puts a 409 next to the field it is about, and 422 details next to theirs', () => {
    const taken = new ApiError(409, 'email_taken', 'An account with this email exists');
    expect(fieldError(taken, 'email')).toBe('An account with this email exists');
    expect(needsBanner(taken, ['email'])).toBe(false);
    const slug = new ApiError(409, 'slug_taken', 'Another organization of this app has this slug');
    expect(fieldError(slug, 'slug')).toBe('Another organization of this app has this slug');
    expect(fieldError(slug, 'name')).toBeUndefined();
    const lastAdmin = new ApiError(409, 'last_admin', 'An organization must keep at least one admin');
    expect(needsBanner(lastAdmin, ['role', 'permissions'])).toBe(true);
    const invalid = new ApiError(422, 'validation_failed', 'bad', [
      { field: 'email', code: 'email', message: 'must be a valid email address' },
      { field: 'permissions[1]', code: 'reserved', message: 'names a built-in resource' },
    ]);
    expect(fieldError(invalid, 'email')).toBe('must be a valid email address');
    expect(listProblems(invalid, 'permissions', ['a:b', 'users:*'])).toEqual(['users:*: names a built-in resource']);
    expect(needsBanner(invalid, ['email'])).toBe(false);
    expect(needsBanner(new ApiError(422, 'validation_failed', 'bad', [{ field: 'unknown', code: 'x', message: 'y' }]), ['email'])).toBe(true);
    expect(needsBanner(new ApiError(403, 'forbidden', 'no'), ['email'])).toBe(true);
    expect(needsBanner(null, ['email'])).toBe(false);
  });
});
