import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../src/api/types';
import { emptyKeyForm, keyState, newApiKeyBody } from '../src/lib/apiKeys';

const key: ApiKey = {
  id: 'key_1',
  name: 'CRM',
  prefix: 'uak_abc',
  role: null,
  permissions: ['records:read'],
  expiresAt: null,
  lastUsedAt: null,
  createdAt: '2026-11-01T00:00:00Z',
  revokedAt: null,
};

describe('API keys', () => {
  it('tells active, expired and revoked keys apart', () => {
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(keyState(key, now)).toBe('active');
    expect(keyState({ ...key, expiresAt: '2026-12-02T00:00:00Z' }, now)).toBe('active');
    expect(keyState({ ...key, expiresAt: '2026-11-30T00:00:00Z' }, now)).toBe('expired');
    expect(keyState({ ...key, expiresAt: '2026-11-30T00:00:00Z', revokedAt: '2026-11-02T00:00:00Z' }, now)).toBe('revoked');
  });

  it('builds the create body: a role, permissions ticked and typed, an expiry at the end of the day', () => {
    expect(newApiKeyBody({ ...emptyKeyForm, name: ' CRM sync ', permissions: ['records:read'], extra: 'billing:read, records:read\nreports:write' })).toEqual({
      name: 'CRM sync',
      permissions: ['records:read', 'billing:read', 'reports:write'],
    });
    expect(newApiKeyBody({ ...emptyKeyForm, name: 'ops', role: 'tenant_admin', expiresOn: '2027-01-31' })).toEqual({
      name: 'ops',
      role: 'tenant_admin',
      expiresAt: '2027-01-31T23:59:59.999Z',
    });
    expect(newApiKeyBody({ ...emptyKeyForm, name: 'x', expiresOn: 'soon' })).toEqual({ name: 'x' });
  });
});
