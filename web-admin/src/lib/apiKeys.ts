// The API keys screen's rules, as pure functions (test/apiKeys.test.ts).
import type { ApiKey, NewApiKey } from '../api/types';
import { dayToInstant } from './format';

export type KeyState = 'active' | 'expired' | 'revoked';

export function keyState(key: ApiKey, now: number = Date.now()): KeyState {
  if (key.revokedAt) return 'revoked';
  if (key.expiresAt && new Date(key.expiresAt).getTime() <= now) return 'expired';
  return 'active';
}

export interface KeyForm {
  name: string;
  /** '' for none. */
  role: string;
  /** Built-in permissions ticked. */
  permissions: string[];
  /** The app's own permissions, `resource:action`, separated by commas, spaces or lines. */
  extra: string;
  /** YYYY-MM-DD or ''. */
  expiresOn: string;
}

export const emptyKeyForm: KeyForm = { name: '', role: '', permissions: [], extra: '', expiresOn: '' };

/** The POST body: a key expires at the end of the chosen (UTC) day. */
export function newApiKeyBody(form: KeyForm): NewApiKey {
  const body: NewApiKey = { name: form.name.trim() };
  if (form.role) body.role = form.role;
  const permissions = [...form.permissions];
  for (const extra of form.extra.split(/[\s,]+/)) {
    if (extra !== '' && !permissions.includes(extra)) permissions.push(extra);
  }
  if (permissions.length > 0) body.permissions = permissions;
  const expiresAt = dayToInstant(form.expiresOn, true);
  if (expiresAt) body.expiresAt = expiresAt;
  return body;
}
