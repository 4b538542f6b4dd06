// The server client (@users-api/client/server) against the real service: an API key for the
// accounts API, and access tokens verified against the service's JWKS with jose.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createServerClient, ForbiddenError, UnauthorizedError, UsersApiError } from '@users-api/client/server';
import { createUsersClient } from '../src/index.js';
import { countingFetch, startService, uniqueEmail, type Service } from './service.js';

const password = 'correct horse battery staple';
let service: Service;
let apiKey: string;

beforeAll(async () => {
  service = await startService('js-server', { organizationCreation: 'any_account' });
  apiKey = await service.apiKey('tenant_admin');
}, 120_000);
afterAll(() => service?.stop());

function server(extra: Partial<Parameters<typeof createServerClient>[0]> = {}) {
  return createServerClient({ baseUrl: service.baseUrl, appId: service.appId, apiKey, ...extra });
}

async function accountToken(appId = service.appId): Promise<{ token: string; userId: string }> {
  const users = createUsersClient({ baseUrl: service.baseUrl, appId, refreshLock: null });
  const { token, user } = await users.auth.register({ email: uniqueEmail('token'), password });
  return { token, userId: user.id };
}

describe('users with an API key', () => {
  it('creates, reads, lists, updates and deletes an account', async () => {
    const api = server();
    const email = uniqueEmail('created');

    const created = await api.users.create({ email, name: 'Created', role: 'tenant_admin' });
    expect(created).toMatchObject({ email, name: 'Created', has_password: false, role: 'tenant_admin' });
    expect(await api.users.get(created.id)).toMatchObject({ id: created.id, email });

    const listed = await api.users.list({ q: email, limit: 10 });
    expect(listed.users.map((user) => user.id)).toEqual([created.id]);
    expect(listed.next_cursor).toBeNull();

    const updated = await api.users.update(created.id, { name: 'Renamed', disabled: true });
    expect(updated).toMatchObject({ name: 'Renamed', disabled: true });

    await api.users.delete(created.id);
    const gone = await api.users.get(created.id).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(UsersApiError);
    expect((gone as UsersApiError).status).toBe(404);
  });

  it('manages organizations, members and invitations', async () => {
    const api = server();
    const admin = createUsersClient({ baseUrl: service.baseUrl, appId: service.appId, refreshLock: null });
    await admin.auth.register({ email: uniqueEmail('owner'), password });
    const organization = await admin.organizations.create({ name: `Server org ${Date.now()}` });

    expect((await api.organizations.list()).organizations.map((org) => org.id)).toContain(organization.id);
    expect(await api.organizations.get(organization.id)).toMatchObject({ id: organization.id });
    const renamed = await api.organizations.update(organization.id, { name: 'Renamed org' });
    expect(renamed.name).toBe('Renamed org');

    const email = uniqueEmail('invited');
    const invitation = await api.organizations.invite(organization.id, { email, role: 'member' });
    expect((await api.organizations.invites(organization.id)).map((invite) => invite.id)).toContain(invitation.id);
    await api.organizations.revokeInvite(organization.id, invitation.id);
    expect(await api.organizations.invites(organization.id)).toEqual([]);

    const members = await api.organizations.users(organization.id);
    expect(members.users).toHaveLength(1);
    await api.organizations.delete(organization.id);
    await expect(api.organizations.get(organization.id)).rejects.toMatchObject({ status: 404 });
  });

  it('refuses a key with too few permissions with a ForbiddenError, and a bad key with UnauthorizedError', async () => {
    const readOnly = server({ apiKey: await service.apiKey('member') });
    const refused = await readOnly.users.create({ email: uniqueEmail('nope'), role: 'tenant_admin' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ForbiddenError);

    const bad = await server({ apiKey: 'uak_not_a_key' }).users.list().catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(UnauthorizedError);
  });
});

describe('verifyAccessToken', () => {
  it("accepts the service's token for this app, with its claims, fetching the JWKS once", async () => {
    const counter = countingFetch();
    const api = server({ fetch: counter.fetch });
    const first = await accountToken();
    const second = await accountToken();

    const claims = await api.verifyAccessToken(first.token);
    await api.verifyAccessToken(second.token);

    expect(claims).toMatchObject({ sub: first.userId, aud: service.appId, iss: service.baseUrl, email_verified: false });
    expect(typeof claims.sid).toBe('string');
    expect(Array.isArray(claims.permissions)).toBe(true);
    expect(counter.count('GET /.well-known/jwks.json')).toBe(1);
  });

  it('refuses a token for another audience (another app of the same service)', async () => {
    const created = await service.operator('/v1/apps', {
      method: 'POST',
      body: { sourceAppId: 'js-server-other', name: 'Other app', allowedOrigins: ['http://127.0.0.1:9'] },
    });
    expect(created.status).toBe(201);
    const { token } = await accountToken('js-server-other');

    const error = await server().verifyAccessToken(token).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as UnauthorizedError).code).toBe('invalid_token');
    expect((error as UnauthorizedError).message).toMatch(/aud/);
  });

  it('refuses a token from another issuer than the configured one', async () => {
    const { token } = await accountToken();
    const error = await server({ issuer: 'https://users.example.com' }).verifyAccessToken(token).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as UnauthorizedError).message).toMatch(/iss/);
  });

  it('refuses HS256 and unsigned tokens, and tampered claims', async () => {
    const api = server();
    const claims = { sub: 'u', sid: 's', aud: service.appId, iss: service.baseUrl };
    const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode('a shared secret of at least 32 bytes!'));
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none' })}.${encode({ ...claims, exp: Math.floor(Date.now() / 1000) + 300 })}.`;
    const { token } = await accountToken();
    const [header, , signature] = token.split('.');
    const tampered = `${header}.${encode({ ...claims, exp: Math.floor(Date.now() / 1000) + 300 })}.${signature}`;

    for (const forged of [hs256, unsigned, tampered, 'not a token']) {
      await expect(api.verifyAccessToken(forged)).rejects.toMatchObject({ name: 'UnauthorizedError', code: 'invalid_token' });
    }
  });

  it('tells keys it cannot fetch apart from a bad token', async () => {
    const broken = createServer((_request, response) => {
      response.writeHead(500);
      response.end('down');
    });
    await new Promise<void>((done) => broken.listen(0, '127.0.0.1', done));
    try {
      const jwksUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/jwks.json`;
      const { token } = await accountToken();
      const error = await server({ jwksUrl }).verifyAccessToken(token).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UsersApiError);
      expect(error).not.toBeInstanceOf(UnauthorizedError);
      expect((error as UsersApiError).code).toBe('jwks_unavailable');
    } finally {
      await new Promise((done) => broken.close(done));
    }
  });

  describe('with keys of its own (jwksUrl)', () => {
    let jwksServer: Server;
    let jwksUrl: string;
    let privateKey: CryptoKey;

    beforeAll(async () => {
      const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      privateKey = pair.privateKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'EdDSA', use: 'sig' };
      jwksServer = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((done) => jwksServer.listen(0, '127.0.0.1', done));
      jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    });
    afterAll(() => new Promise((done) => jwksServer.close(done)));

    const sign = (expiresAt: number) =>
      new SignJWT({ sid: 's', permissions: [] })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'test-key' })
        .setSubject('user-1')
        .setAudience(service.appId)
        .setIssuer(service.baseUrl)
        .setIssuedAt(expiresAt - 900)
        .setExpirationTime(expiresAt)
        .sign(privateKey);

    it('reports an expired token as token_expired, within no more than 30 s of leeway', async () => {
      const now = Math.floor(Date.now() / 1000);
      const api = server({ jwksUrl });

      await expect(api.verifyAccessToken(await sign(now - 10))).resolves.toMatchObject({ sub: 'user-1' });
      await expect(api.verifyAccessToken(await sign(now - 60))).rejects.toMatchObject({ name: 'UnauthorizedError', code: 'token_expired' });
    });
  });
});
