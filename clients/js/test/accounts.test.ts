// The accounts API of createUsersClient against the real service (test/service.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createUsersClient,
  ForbiddenError,
  memoryTokenStorage,
  UnauthorizedError,
  ValidationError,
  type TokenStorage,
  type UsersClient,
} from '../src/index.js';
import { countingFetch, sharedLock, startService, uniqueEmail, type Service } from './service.js';

const password = 'correct horse battery staple';
let service: Service;

beforeAll(async () => {
  service = await startService('js-accounts', { organizationCreation: 'any_account' });
}, 120_000);
afterAll(() => service?.stop());

function client(extra: Partial<Parameters<typeof createUsersClient>[0]> = {}): UsersClient {
  return createUsersClient({ baseUrl: service.baseUrl, appId: service.appId, refreshLock: null, ...extra });
}

async function registered(name: string, extra: Partial<Parameters<typeof createUsersClient>[0]> = {}) {
  const users = client(extra);
  const email = uniqueEmail(name);
  const result = await users.auth.register({ email, password, name });
  return { users, email, result };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('auth', () => {
  it('registers, is logged in, and verifies the address with the token of the e-mail', async () => {
    const { users, email, result } = await registered('ada');

    expect(result.user).toMatchObject({ email, name: 'ada', email_verified: false });
    expect(await users.auth.isLoggedIn()).toBe(true);
    const verified = await users.auth.verifyEmail(await service.mailToken(email, 'verify_email'));
    expect(verified).toMatchObject({ email, email_verified: true });

    expect(await users.users.me()).toMatchObject({ email, email_verified: true });
  });

  it('surfaces a 422 of register as a ValidationError with the details by field', async () => {
    const error = await rejection(client().auth.register({ email: 'not an address', password: 'short' }));

    expect(error).toBeInstanceOf(ValidationError);
    const validation = error as ValidationError;
    expect(validation.status).toBe(422);
    expect(validation.code).toBe('validation_failed');
    expect(validation.fieldErrors.email?.code).toBe('email');
    expect(validation.fieldErrors.password).toEqual({ code: 'too_short', message: 'must be at least 8 characters' });
    expect(validation.details.map((detail) => detail.field).sort()).toEqual(['email', 'password']);
  });

  it('logs in, refuses a wrong password with UnauthorizedError, and logs out', async () => {
    const { email } = await registered('grace');
    const users = client();

    const wrong = await rejection(users.auth.login({ email, password: 'not the password at all' }));
    expect(wrong).toBeInstanceOf(UnauthorizedError);
    expect((wrong as UnauthorizedError).code).toBe('invalid_credentials');
    expect(await users.auth.isLoggedIn()).toBe(false);

    const changes: boolean[] = [];
    users.auth.onChange((loggedIn) => changes.push(loggedIn));
    const result = await users.auth.login({ email, password });
    expect(result.user.email).toBe(email);
    const token = await users.auth.getAccessToken();
    expect(token).toBe(result.token);

    await users.auth.logout();
    expect(await users.auth.isLoggedIn()).toBe(false);
    expect(changes).toEqual([true, false]);
    const after = await rejection(users.users.me());
    expect(after).toBeInstanceOf(UnauthorizedError);
    // The session is over on the service too: its access token is refused.
    const answer = await fetch(`${service.baseUrl}/v1/users/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(answer.status).toBe(401);
  });

  it('resets a forgotten password with the token of the e-mail', async () => {
    const { email } = await registered('katherine');
    const users = client();

    expect(await users.auth.forgotPassword(email)).toMatchObject({ sent: true });
    await users.auth.resetPassword({ token: await service.mailToken(email, 'reset_password'), new_password: 'a brand new passphrase' });

    await expect(users.auth.login({ email, password })).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(users.auth.login({ email, password: 'a brand new passphrase' })).resolves.toMatchObject({ user: { email } });
  });

  it('refreshes on request and keeps working with the new tokens', async () => {
    const storage = memoryTokenStorage();
    const { users } = await registered('dorothy', { storage });
    const before = await storage.get();

    expect(await users.auth.refresh()).toBe(true);
    const after = await storage.get();
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
    expect(after?.accessToken).not.toBe(before?.accessToken);
    await expect(users.users.me()).resolves.toHaveProperty('name', 'dorothy');
  });
});

describe('users', () => {
  it("reads and updates the profile, lists sessions, and changes the password", async () => {
    const { users, email } = await registered('hedy');

    const updated = await users.users.update('me', { bio: 'Inventor', avatar_url: 'https://example.com/hedy.png' });
    expect(updated).toMatchObject({ email, bio: 'Inventor', avatar_url: 'https://example.com/hedy.png' });
    expect((await users.users.me()).bio).toBe('Inventor');

    const sessions = await users.users.sessions();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ current: true });

    const refused = await rejection(users.users.changePassword({ current_password: 'not the current one', new_password: 'another long passphrase' }));
    expect(refused).toBeInstanceOf(ValidationError);
    expect(Object.keys((refused as ValidationError).fieldErrors)).toContain('current_password');

    await users.users.changePassword({ current_password: password, new_password: 'another long passphrase' });
    // This session goes on; the old password is gone.
    await expect(users.users.me()).resolves.toHaveProperty('email', email);
    await expect(client().auth.login({ email, password })).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('refuses unknown profile members with a ValidationError', async () => {
    const { users } = await registered('ida');
    const error = await rejection(users.users.update('me', { email: 'x@example.com' } as never));
    expect(error).toBeInstanceOf(ValidationError);
  });
});

describe('organizations', () => {
  it('creates one, invites, the invitee accepts, and the admin lists and removes the member', async () => {
    const { users: admin } = await registered('barbara');
    const organization = await admin.organizations.create({ name: `Acme ${Date.now()}` });
    expect(organization).toMatchObject({ role: 'admin' });
    expect((await admin.organizations.list()).organizations.map((org) => org.id)).toContain(organization.id);

    const inviteeEmail = uniqueEmail('margaret');
    const invitation = await admin.organizations.invite(organization.id, { email: inviteeEmail, role: 'member', message: 'Welcome!' });
    expect(invitation).toMatchObject({ email: inviteeEmail, role: 'member' });
    expect((await admin.organizations.invites(organization.id)).map((invite) => invite.id)).toContain(invitation.id);

    const token = await service.mailToken(inviteeEmail, 'invitation');
    const invitee = client();
    expect(await invitee.auth.invitation(token)).toMatchObject({ email: inviteeEmail, role: 'member', status: 'pending', account_exists: false });
    const accepted = await invitee.auth.acceptInvite({ token, password, name: 'Margaret' });
    expect(accepted.user.email).toBe(inviteeEmail);
    expect(await invitee.auth.isLoggedIn()).toBe(true);

    const members = await admin.organizations.users(organization.id);
    const member = members.users.find((candidate) => candidate.email === inviteeEmail);
    expect(member).toMatchObject({ role: 'member' });

    // A member may not invite: a ForbiddenError naming why.
    await invitee.auth.refresh({ organization_id: organization.id });
    const forbidden = await rejection(invitee.organizations.invite(organization.id, { email: uniqueEmail('x'), role: 'member' }));
    expect(forbidden).toBeInstanceOf(ForbiddenError);
    expect((forbidden as ForbiddenError).code).toBe('forbidden');

    await admin.organizations.removeUser(organization.id, member!.id);
    const after = await admin.organizations.users(organization.id);
    expect(after.users.map((candidate) => candidate.email)).not.toContain(inviteeEmail);
  });
});

describe('invitations for an existing account', () => {
  it("are accepted with its own token, and refused with another account's", async () => {
    const { users: admin } = await registered('frances');
    const organization = await admin.organizations.create({ name: `Existing ${Date.now()}` });
    const { users: member, email } = await registered('mary');
    await admin.organizations.invite(organization.id, { email, role: 'member' });
    const token = await service.mailToken(email, 'invitation');

    const stranger = (await registered('stranger')).users;
    const refused = await rejection(stranger.auth.acceptInvite({ token }));
    expect(refused).toBeInstanceOf(ForbiddenError);
    expect((refused as ForbiddenError).code).toBe('invitation_for_another_account');
    const anonymous = await rejection(client().auth.acceptInvite({ token }));
    expect(anonymous).toBeInstanceOf(UnauthorizedError);
    expect((anonymous as UnauthorizedError).code).toBe('login_required');

    const accepted = await member.auth.acceptInvite({ token });
    expect(accepted.user.organizations.map((org) => org.id)).toContain(organization.id);
    expect((await member.users.me()).organizations.map((org) => org.id)).toContain(organization.id);
  });
});

describe('refresh: one at a time', () => {
  /** Logs in on `storage`, then makes the stored access token look expired. */
  async function expiredSession(storage: TokenStorage, name: string) {
    const email = uniqueEmail(name);
    await client({ storage }).auth.register({ email, password, name });
    const tokens = (await storage.get())!;
    await storage.set({ ...tokens, expiresAt: Date.now() - 1_000 });
    return tokens;
  }

  it('concurrent calls with an expired access token make exactly one POST /v1/auth/refresh', async () => {
    const storage = memoryTokenStorage();
    const stale = await expiredSession(storage, 'alan');
    const counter = countingFetch();
    const users = client({ storage, fetch: counter.fetch });

    const answers = await Promise.all([users.users.me(), users.users.me(), users.users.sessions(), users.organizations.list(), users.users.me()]);

    expect(counter.count('POST /v1/auth/refresh')).toBe(1);
    expect(answers[0]).toHaveProperty('name', 'alan');
    expect((await storage.get())!.refreshToken).not.toBe(stale.refreshToken);
    expect(counter.count('GET /v1/users/me')).toBe(3);
  });

  it('concurrent calls whose access token is refused (401) refresh once and retry', async () => {
    const storage = memoryTokenStorage();
    await expiredSession(storage, 'barbara');
    const tokens = (await storage.get())!;
    // Looks fresh to the client, refused by the service.
    await storage.set({ ...tokens, accessToken: 'not.a.token', expiresAt: Date.now() + 600_000 });
    const counter = countingFetch();
    const users = client({ storage, fetch: counter.fetch });

    const answers = await Promise.all([users.users.me(), users.users.me(), users.users.me()]);

    expect(answers.map((user) => user.name)).toEqual(['barbara', 'barbara', 'barbara']);
    expect(counter.count('POST /v1/auth/refresh')).toBe(1);
    expect(counter.count('GET /v1/users/me')).toBe(6);
  });

  it('two tabs sharing the storage and a lock refresh once: the second uses the first one\'s tokens', async () => {
    const storage = memoryTokenStorage();
    await expiredSession(storage, 'edsger');
    const lock = sharedLock();
    const counter = countingFetch();
    const tabA = client({ storage, refreshLock: lock, fetch: counter.fetch });
    const tabB = client({ storage, refreshLock: lock, fetch: counter.fetch });

    const [a, b] = await Promise.all([tabA.users.me(), tabB.users.me()]);

    expect(a.id).toBe(b.id);
    expect(counter.count('POST /v1/auth/refresh')).toBe(1);
    // Both tabs' next refresh works: neither spent a token the other still holds.
    expect(await tabB.auth.refresh()).toBe(true);
    expect(await tabA.auth.refresh()).toBe(true);
    await expect(tabA.users.me()).resolves.toHaveProperty('id', a.id);
  });

  it('a refused refresh token logs out', async () => {
    const storage = memoryTokenStorage();
    const tokens = await expiredSession(storage, 'john');
    await storage.set({ ...tokens, refreshToken: `${tokens.refreshToken}x`, expiresAt: Date.now() - 1_000 });
    const users = client({ storage });
    const changes: boolean[] = [];
    users.auth.onChange((loggedIn) => changes.push(loggedIn));

    await expect(users.users.me()).rejects.toBeInstanceOf(UnauthorizedError);
    expect(await users.auth.isLoggedIn()).toBe(false);
    expect(changes).toEqual([false]);
  });
});
