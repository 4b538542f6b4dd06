// Runs the JS/TS and JSON samples of docs/accounts.md (test/docs-samples/accounts-*) against the
// real service: `https://users.example.com` in a browser sample is sent to it, and the backend
// samples read its address from USERS_API_URL, as they say. (accounts-react and accounts-server
// are the client README's too: accounts-samples.test.tsx runs them.)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { createUsersClient } from '../src/index.js';
import { startService, uniqueEmail, type Service } from './service.js';

const password = 'correct horse battery staple';
const sample = (file: string): unknown =>
  JSON.parse(readFileSync(fileURLToPath(new URL(`./docs-samples/${file}`, import.meta.url)), 'utf8'));
let service: Service;
const realFetch = globalThis.fetch;

beforeAll(async () => {
  // The guide's app; an account that registers may create an organization at once here.
  service = await startService('my-site', { organizationCreation: 'any_account' });
}, 120_000);
afterAll(() => service?.stop());

beforeEach(() => {
  vi.resetModules();
  vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) =>
    realFetch(String(input).replace('https://users.example.com', service.baseUrl), init),
  );
  vi.stubEnv('USERS_API_URL', service.baseUrl);
  vi.stubEnv('USERS_API_APP_ID', 'my-site');
});

/** A new account of my-site, logged in through the client. */
async function account(name: string) {
  const client = createUsersClient({ baseUrl: service.baseUrl, appId: 'my-site', refreshLock: null });
  const email = uniqueEmail(name);
  const registered = await realFetch(`${service.baseUrl}/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-app-id': 'my-site' },
    body: JSON.stringify({ email, password, name: 'Ada' }),
  });
  expect(registered.status).toBe(201);
  await client.auth.login({ email, password });
  return { client, email, answer: (await registered.json()) as { success: boolean; data: Record<string, unknown> } };
}

describe('accounts-register-response.json', () => {
  it('has the members of a real registration, with their formats', async () => {
    const documented = sample('accounts-register-response.json') as { success: boolean; data: { user: object } };
    const { answer } = await account('register-response');

    expect(answer.success).toBe(documented.success);
    expect(Object.keys(answer.data).sort()).toEqual(Object.keys(documented.data).sort());
    const user = answer.data.user as Record<string, unknown>;
    for (const key of Object.keys(documented.data.user)) expect(user, key).toHaveProperty(key);
    expect(user).toMatchObject({ email_verified: false, data: {}, organizations: [] });
    expect(String(answer.data.token).split('.')).toHaveLength(3);
    expect(answer.data.expires_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(String(answer.data.refresh_token)).toMatch(/^bXktc2l0ZQ\./); // base64url of "my-site"
  });
});

describe('accounts-mail-settings.json', () => {
  it('is accepted whole by PUT /v1/apps/{appId}/mail-settings and read back', async () => {
    const settings = sample('accounts-mail-settings.json') as Record<string, unknown>;
    const put = await service.operator('/v1/apps/my-site/mail-settings', { method: 'PUT', body: settings });
    expect(put.status, await put.clone().text()).toBe(200);

    const read = (await (await service.operator('/v1/apps/my-site/mail-settings')).json()) as Record<string, unknown>;
    expect(read).toMatchObject(settings);

    const reset = await service.operator('/v1/apps/my-site/mail-settings', { method: 'PUT', body: {} });
    expect(reset.status).toBe(200);
  });
});

describe('accounts-fetch.ts', () => {
  it('logs in and reads the account, and throws the message of a refused login', async () => {
    const { email } = await account('fetch');
    const { logIn } = await import('./docs-samples/accounts-fetch.js');

    const { user, token, refresh_token } = await logIn(email, password);
    expect(user).toMatchObject({ email, name: 'Ada' });
    expect(token.split('.')).toHaveLength(3);
    expect(refresh_token).toMatch(/^bXktc2l0ZQ\./);

    await expect(logIn(email, 'not the password at all')).rejects.toThrow(/./);
  });
});

describe('accounts-verify-jose.ts', () => {
  it("verifies a real access token's claims and refuses a forged one", async () => {
    const { client, email } = await account('jose');
    const { verify } = await import('./docs-samples/accounts-verify-jose.js');
    const token = (await client.auth.getAccessToken())!;

    const claims = await verify(token);
    expect(claims).toMatchObject({ aud: 'my-site', iss: service.baseUrl, email });

    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;
    await expect(verify(forged)).rejects.toThrow();
  });
});

describe('accounts-nextjs-route.ts', () => {
  it("answers the members of the caller's organization, 403 without a valid token or an organization", async () => {
    vi.stubEnv('USERS_API_KEY', await service.apiKey('tenant_admin'));
    const { GET } = await import('./docs-samples/accounts-nextjs-route.js');
    const { client, email } = await account('route');
    const call = async (token?: string) =>
      GET(new Request('https://app.example.com/api/team', { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }));

    expect((await call()).status).toBe(403);
    expect((await call('forged.token.here')).status).toBe(403);
    expect((await call((await client.auth.getAccessToken())!)).status).toBe(403);

    const organization = await client.organizations.create({ name: `Route ${Date.now()}` });
    await client.auth.refresh({ organization_id: organization.id });
    const answer = await call((await client.auth.getAccessToken())!);

    expect(answer.status).toBe(200);
    const { users } = (await answer.json()) as { users: { email: string; role: string }[] };
    expect(users).toEqual([expect.objectContaining({ email, role: 'admin' })]);
  });
});
