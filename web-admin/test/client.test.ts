import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, exportUrl, normalizeApps, normalizeWithPassword, outboxQueryString, usersQueryString } from '../src/api/client';

function respond(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

describe('api client', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('sends JSON with a content type on every state-changing request', async () => {
    const fetchMock = vi.fn(async (..._args: unknown[]) => respond(200, { ok: true, role: 'owner', sourceAppId: 'site' }));
    vi.stubGlobal('fetch', fetchMock);
    await api.login({ sourceAppId: 'site', password: 'pw' });
    await api.deleteUser('site', 'u1');
    await api.logout();
    for (const call of fetchMock.mock.calls) {
      const init = call[1] as RequestInit;
      expect((init.headers as Record<string, string>)['content-type']).toBe('application/json');
      expect(init.credentials).toBe('same-origin');
    }
    expect(fetchMock.mock.calls[0]?.[0]).toBe('/auth/login');
    expect((fetchMock.mock.calls[0]?.[1] as RequestInit).body).toBe('{"sourceAppId":"site","password":"pw"}');
    expect(fetchMock.mock.calls[1]?.[0]).toBe('/v1/apps/site/users/u1');
  });

  it('turns the error envelope into words and field details', async () => {
    vi.stubGlobal('fetch', async () =>
      respond(422, { error: { code: 'validation_failed', message: 'data.age must be at most 120', details: [{ field: 'data.age', code: 'max', message: 'must be at most 120' }] } }),
    );
    const error = await api.saveSchema('site', { rejectUnknown: true, fields: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.message).toBe('data.age must be at most 120');
    expect(apiError.detailFor('age')).toBe('must be at most 120');
  });

  it('says when to retry after 429 and has words for bodies without an envelope', async () => {
    vi.stubGlobal('fetch', async () => respond(429, { error: { code: 'rate_limited', message: 'Too many requests.' } }, { 'retry-after': '7' }));
    const limited = (await api.login({ email: 'a@b.c', password: 'x' }).catch((e: unknown) => e)) as ApiError;
    expect(limited.message).toBe('Too many requests. Try again in 7 seconds.');
    expect(limited.retryAfter).toBe(7);
    vi.stubGlobal('fetch', async () => new Response('<html>', { status: 503 }));
    const down = (await api.listApps().catch((e: unknown) => e)) as ApiError;
    expect(down.message).toMatch(/unavailable/);
  });

  it('accepts app lists as arrays or {apps} and ids as id or sourceAppId', () => {
    expect(normalizeApps([{ id: 'a', name: 'A', allowedOrigins: ['*'] }])[0]?.sourceAppId).toBe('a');
    expect(normalizeApps({ apps: [{ sourceAppId: 'b', name: 'B' }] })[0]).toMatchObject({ sourceAppId: 'b', allowedOrigins: [] });
    expect(normalizeWithPassword({ app: { id: 'c', name: 'C' }, password: 'p' })).toMatchObject({ password: 'p', app: { sourceAppId: 'c' } });
    expect(normalizeWithPassword({ sourceAppId: 'd', name: 'D', password: 'q' }).app?.sourceAppId).toBe('d');
  });

  it('builds paging and export URLs', () => {
    expect(usersQueryString({ limit: 25, cursor: 'c/1', q: 'ada@', createdAfter: '2026-01-01T00:00:00Z' })).toBe(
      '?limit=25&cursor=c%2F1&q=ada%40&createdAfter=2026-01-01T00%3A00%3A00Z',
    );
    expect(usersQueryString({})).toBe('');
    expect(exportUrl('my site', 'ndjson')).toBe('/v1/apps/my%20site/users/export?format=ndjson');
    expect(outboxQueryString({ limit: 25, cursor: 'a+b', status: 'failed' })).toBe('?limit=25&cursor=a%2Bb&status=failed');
    expect(outboxQueryString({})).toBe('');
  });

  it('sends a preview or a test with the unsaved template only when there is one', async () => {
    const fetchMock = vi.fn(async (..._args: unknown[]) => respond(200, { from: 'f', subject: 's', text: 't', html: 'h' }));
    vi.stubGlobal('fetch', fetchMock);
    const template = { subject: 'Hi', text: '{{link}}', html: '<p>{{link}}</p>' };
    await api.previewMail('my site', 'invitation');
    await api.previewMail('my site', 'verify_email', template);
    await api.sendTestMail('my site', 'reset_password', 'me@example.com', template);
    const sent = fetchMock.mock.calls.map((call) => [call[0], JSON.parse(String((call[1] as RequestInit).body))]);
    expect(sent).toEqual([
      ['/v1/apps/my%20site/mail-settings/preview', { kind: 'invitation' }],
      ['/v1/apps/my%20site/mail-settings/preview', { kind: 'verify_email', template }],
      ['/v1/apps/my%20site/mail/test', { kind: 'reset_password', to: 'me@example.com', template }],
    ]);
  });
});
