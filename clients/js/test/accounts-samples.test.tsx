// @vitest-environment jsdom
// Runs the accounts samples of clients/js/README.md (test/docs-samples/accounts-*) against the
// real service: their `https://users.example.com` is sent to it.
import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { createUsersClient } from '../src/index.js';
import { startService, uniqueEmail, type Service } from './service.js';

const password = 'correct horse battery staple';
let service: Service;
const realFetch = globalThis.fetch;

beforeAll(async () => {
  service = await startService('my-site', { organizationCreation: 'any_account' });
}, 120_000);
afterAll(() => service?.stop());

beforeEach(() => {
  vi.resetModules();
  localStorage.clear();
  // The samples' service address, answered by the real one.
  vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) =>
    realFetch(String(input).replace('https://users.example.com', service.baseUrl), init),
  );
  vi.stubEnv('VITE_USERS_API_URL', 'https://users.example.com');
  vi.stubEnv('VITE_USERS_API_APP_ID', 'my-site');
});
afterEach(cleanup);

describe('accounts-client.ts', () => {
  it('signs up (or reports the field problems), reads the profile, and invites only as an admin', async () => {
    const sample = await import('./docs-samples/accounts-client.js');

    const refused = await sample.signUp(uniqueEmail('sample'), 'password123', 'Ada');
    expect(refused.problems?.password?.code).toBe('too_common');

    const email = uniqueEmail('sample');
    const { user } = await sample.signUp(email, password, 'Ada');
    expect(user?.email).toBe(email);
    expect(localStorage.getItem('users-api:my-site:tokens')).toContain('refreshToken');

    const { me, sessions } = await sample.profile();
    expect(me).toMatchObject({ email, bio: 'Mathematician' });
    expect(sessions).toHaveLength(1);

    const admin = createUsersClient({ baseUrl: service.baseUrl, appId: 'my-site', refreshLock: null });
    await admin.auth.register({ email: uniqueEmail('owner'), password });
    const organization = await admin.organizations.create({ name: `Sample org ${Date.now()}` });
    expect(await sample.inviteColleague(organization.id, uniqueEmail('colleague'))).toBe('organization_access_denied');

    await sample.users.auth.logout();
    expect(await sample.inviteColleague(organization.id, uniqueEmail('colleague'))).toBe('log in again');
  });
});

describe('accounts-react.tsx', () => {
  it('shows the login and register forms, registers, and logs out', async () => {
    const { App } = await import('./docs-samples/accounts-react.js');
    const user = userEvent.setup();
    const { container } = render(<App />);
    const forms = await waitFor(() => {
      const found = container.querySelectorAll('form');
      expect(found).toHaveLength(2);
      return [...found];
    });
    const register = within(forms[1]!);
    const email = uniqueEmail('react-sample');

    await user.type(register.getByLabelText(/^Email/), email);
    await user.type(register.getByLabelText(/^Password/), password);
    await user.click(register.getByRole('button', { name: 'Create account' }));

    expect(await screen.findByText(`Signed in as ${email}`, { exact: false })).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Log out' }));
    await waitFor(() => expect(container.querySelectorAll('form')).toHaveLength(2));
  });
});

describe('accounts-server.ts', () => {
  it("answers the members of the caller's organization, 401 without a valid token, 403 without an organization", async () => {
    vi.stubEnv('USERS_API_URL', service.baseUrl);
    vi.stubEnv('USERS_API_APP_ID', 'my-site');
    vi.stubEnv('USERS_API_KEY', await service.apiKey('tenant_admin'));
    const { GET } = await import('./docs-samples/accounts-server.js');
    const admin = createUsersClient({ baseUrl: service.baseUrl, appId: 'my-site', refreshLock: null });
    const email = uniqueEmail('team-admin');
    await admin.auth.register({ email, password });
    const call = async (token?: string) =>
      GET(new Request('https://app.example.com/api/team', { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }));

    expect((await call()).status).toBe(401);
    expect((await call((await admin.auth.getAccessToken())!)).status).toBe(403);

    const organization = await admin.organizations.create({ name: `Team ${Date.now()}` });
    await admin.auth.refresh({ organization_id: organization.id });
    const answer = await call((await admin.auth.getAccessToken())!);

    expect(answer.status).toBe(200);
    const members = (await answer.json()) as { email: string; role: string }[];
    expect(members).toEqual([expect.objectContaining({ email, role: 'admin' })]);
  });
});
