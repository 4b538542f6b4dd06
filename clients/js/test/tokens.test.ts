// The token handling of the accounts client, on scripted answers: expiry by the token's own
// lifetime, refresh ahead of expiry, one refresh and one retry after a 401, storage.
import { describe, expect, it, vi } from 'vitest';

import {
  createUsersClient,
  ForbiddenError,
  localStorageTokenStorage,
  memoryTokenStorage,
  UnauthorizedError,
  webLocksRefreshLock,
  type StoredTokens,
} from '../src/index.js';
import { localExpiry } from '../src/accounts/tokens.js';
import { errorResponse, jsonResponse, scriptedFetch } from './helpers.js';

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A JWT-shaped token (unsigned: the client only reads its lifetime). */
function fakeJwt(iat: number, exp: number, name = 'a'): string {
  return `${base64url({ alg: 'EdDSA' })}.${base64url({ iat, exp, sub: name })}.c2ln`;
}
const now = () => Math.floor(Date.now() / 1000);
const refreshed = (token: string) => jsonResponse(200, { success: true, data: { token, expires_at: new Date(Date.now() + 900_000).toISOString(), refresh_token: `r-${token}` } });
const me = (name = 'Ada') => jsonResponse(200, { success: true, data: { id: 'u1', email: 'ada@example.com', name } });

function client(fetch: typeof globalThis.fetch, tokens: StoredTokens | null) {
  const storage = memoryTokenStorage(tokens);
  const users = createUsersClient({ baseUrl: 'https://users.example.com', appId: 'my-site', fetch, retryDelayMs: 1, refreshLock: null, storage });
  return { users, storage };
}

const paths = (fetch: ReturnType<typeof scriptedFetch>) =>
  fetch.mock.calls.map(([url, init]) => `${init?.method} ${new URL(String(url)).pathname} ${(init?.headers as Record<string, string>).authorization ?? ''}`.trim());

describe('expiry', () => {
  it("counts the token's own lifetime from now, whatever the service's clock says", () => {
    // A service clock an hour behind this device's.
    const iat = now() - 3600;
    const expiresAt = localExpiry(fakeJwt(iat, iat + 900), new Date((iat + 900) * 1000).toISOString());
    expect(expiresAt - Date.now()).toBeGreaterThan(899_000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(900_000);
  });

  it('falls back on expires_at for a token it cannot read', () => {
    expect(localExpiry('opaque', '2030-01-01T00:00:00.000Z')).toBe(Date.parse('2030-01-01T00:00:00.000Z'));
  });
});

describe('authenticated calls', () => {
  it('refresh first when the access token expires within the margin', async () => {
    const fetch = scriptedFetch(refreshed('new'), me());
    const { users, storage } = client(fetch, { accessToken: 'old', refreshToken: 'r-old', expiresAt: Date.now() + 10_000 });

    await users.users.me();

    expect(paths(fetch)).toEqual(['POST /v1/auth/refresh', 'GET /v1/users/me Bearer new']);
    expect(JSON.parse(String(fetch.mock.calls[0]![1]?.body))).toEqual({ refresh_token: 'r-old' });
    expect((await storage.get())?.refreshToken).toBe('r-new');
  });

  it('after a 401 refresh once and retry once, and give up on a second 401', async () => {
    const expired = () => errorResponse(401, 'token_expired', 'The access token has expired');
    const fetch = scriptedFetch(expired(), refreshed('new'), expired(), me());
    const { users } = client(fetch, { accessToken: 'old', refreshToken: 'r-old', expiresAt: Date.now() + 600_000 });

    const error = await users.users.me().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(paths(fetch)).toEqual(['GET /v1/users/me Bearer old', 'POST /v1/auth/refresh', 'GET /v1/users/me Bearer new']);
  });

  it('neither refresh nor retry after a 403', async () => {
    const fetch = scriptedFetch(errorResponse(403, 'organization_access_denied', 'Not a member'));
    const { users } = client(fetch, { accessToken: 'old', refreshToken: 'r-old', expiresAt: Date.now() + 600_000 });

    const error = await users.organizations.users('org_1').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toMatchObject({ code: 'organization_access_denied' });
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('keep the tokens when the refresh could not reach the service', async () => {
    const fetch = scriptedFetch(new TypeError('Failed to fetch'), new TypeError('Failed to fetch'));
    const tokens = { accessToken: 'old', refreshToken: 'r-old', expiresAt: Date.now() - 1 };
    const { users, storage } = client(fetch, tokens);

    await expect(users.users.me()).rejects.toMatchObject({ code: 'network_error' });
    expect(await storage.get()).toEqual(tokens);
  });

  it('refuse at once, without a request, when logged out', async () => {
    const fetch = scriptedFetch();
    const { users } = client(fetch, null);

    await expect(users.users.me()).rejects.toMatchObject({ name: 'UnauthorizedError', code: 'unauthorized' });
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('logout', () => {
  it('ends the session on the service and forgets the tokens, also when the session was over already', async () => {
    const fetch = scriptedFetch(errorResponse(401, 'invalid_token', 'The token is not valid'), errorResponse(401, 'invalid_token', 'no'));
    const { users, storage } = client(fetch, { accessToken: 'old', refreshToken: 'r-old', expiresAt: Date.now() + 600_000 });

    await users.auth.logout({ all: true });

    expect(await storage.get()).toBeNull();
    expect(paths(fetch)).toEqual(['POST /v1/auth/logout Bearer old', 'POST /v1/auth/refresh']);
    expect(JSON.parse(String(fetch.mock.calls[0]![1]?.body))).toEqual({ all: true });
  });
});

describe('localStorageTokenStorage', () => {
  function fakeStorage(): Storage {
    const map = new Map<string, string>();
    return {
      get length() {
        return map.size;
      },
      clear: () => map.clear(),
      getItem: (key) => map.get(key) ?? null,
      key: (index) => [...map.keys()][index] ?? null,
      removeItem: (key) => void map.delete(key),
      setItem: (key, value) => void map.set(key, value),
    };
  }

  it('keeps the tokens as JSON under its key, and reads a damaged entry as logged out', () => {
    const storage = fakeStorage();
    const tokens = localStorageTokenStorage({ key: 'k', storage, events: new EventTarget() as never });
    const stored = { accessToken: 'a', refreshToken: 'r', expiresAt: 1 };

    tokens.set(stored);
    expect(JSON.parse(storage.getItem('k')!)).toEqual(stored);
    expect(tokens.get()).toEqual(stored);
    storage.setItem('k', '{not json');
    expect(tokens.get()).toBeNull();
    tokens.set(null);
    expect(storage.getItem('k')).toBeNull();
  });

  it("reports other tabs' changes of its key, and only of its key", () => {
    const storage = fakeStorage();
    const events = new EventTarget();
    const tokens = localStorageTokenStorage({ key: 'k', storage, events: events as never });
    const seen: (StoredTokens | null)[] = [];
    const stop = tokens.subscribe!((next) => seen.push(next));

    storage.setItem('k', JSON.stringify({ accessToken: 'b', refreshToken: 'r2', expiresAt: 2 }));
    events.dispatchEvent(Object.assign(new Event('storage'), { key: 'other' }));
    events.dispatchEvent(Object.assign(new Event('storage'), { key: 'k' }));
    stop();
    events.dispatchEvent(Object.assign(new Event('storage'), { key: 'k' }));

    expect(seen).toEqual([{ accessToken: 'b', refreshToken: 'r2', expiresAt: 2 }]);
  });
});

describe('webLocksRefreshLock', () => {
  it('uses navigator.locks.request where the runtime has it', async () => {
    const request = vi.fn(async (_name: string, task: () => Promise<unknown>) => task());
    vi.stubGlobal('navigator', { locks: { request } });

    const lock = webLocksRefreshLock();
    expect(lock).toBeDefined();
    await expect(lock!('users-api:refresh:my-site', async () => 42)).resolves.toBe(42);
    expect(request).toHaveBeenCalledWith('users-api:refresh:my-site', expect.any(Function));
  });

  it('is undefined without the Web Locks API', () => {
    vi.stubGlobal('navigator', {});
    expect(webLocksRefreshLock()).toBeUndefined();
  });
});
