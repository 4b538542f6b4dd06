import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

import { describe, expect, it } from 'vitest';

import { createUsersClient, RateLimitedError, UsersApiError, ValidationError } from '../src/index.js';
import { errorResponse, exampleSchema, jsonResponse, scriptedFetch } from './helpers.js';

const stored = { id: '0190f5b2-7c4e-7d2a-9a53-3f1c2b8e4d11', createdAt: '2025-01-02T03:04:05.678Z', updatedAt: '2025-01-02T03:04:05.678Z' };

function client(fetch: typeof globalThis.fetch, extra: { timeoutMs?: number } = {}) {
  return createUsersClient({ baseUrl: 'https://users.example.com/', appId: 'my-site', fetch, retryDelayMs: 1, ...extra });
}

async function failure(promise: Promise<unknown>): Promise<UsersApiError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UsersApiError);
  return error as UsersApiError;
}

describe('submit', () => {
  it('posts the email and data as JSON with the app id and resolves to the stored ids', async () => {
    const fetch = scriptedFetch(jsonResponse(200, stored));

    const result = await client(fetch).submit({ email: 'ada@example.com', data: { fullName: 'Ada', age: 36 } });

    expect(result).toEqual(stored);
    expect(fetch).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('https://users.example.com/v1/users');
    expect(init?.method).toBe('POST');
    expect(init?.headers).toMatchObject({ 'content-type': 'application/json', 'x-app-id': 'my-site' });
    expect(JSON.parse(String(init?.body))).toEqual({ email: 'ada@example.com', data: { fullName: 'Ada', age: 36 } });
    expect(init?.signal).toBeInstanceOf(AbortSignal);
  });
});

describe('getSchema', () => {
  it('gets the schema with the app id and no body', async () => {
    const fetch = scriptedFetch(jsonResponse(200, exampleSchema));

    const schema = await client(fetch).getSchema();

    expect(schema).toEqual(exampleSchema);
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('https://users.example.com/v1/schema');
    expect(init?.method).toBe('GET');
    expect(init?.headers).toMatchObject({ 'x-app-id': 'my-site' });
    expect(init?.headers).not.toHaveProperty('content-type');
    expect(init?.body).toBeUndefined();
  });
});

describe('createUsersClient', () => {
  it('refuses to build without a base URL or an app id', () => {
    expect(() => createUsersClient({ baseUrl: '', appId: 'a' })).toThrow(/baseUrl/);
    expect(() => createUsersClient({ baseUrl: 'http://x', appId: ' ' })).toThrow(/appId/);
  });
});

describe('errors', () => {
  it('turns a 422 into a ValidationError (a UsersApiError) with code, message, details and request id', async () => {
    const details = [{ field: 'data.age', code: 'max', message: 'must be at most 120' }];
    const fetch = scriptedFetch(
      errorResponse(422, 'validation_failed', 'data.age must be at most 120', { details, headers: { 'x-request-id': 'req-42' } }),
    );

    const error = await failure(client(fetch).submit({ email: 'ada@example.com', data: { age: 200 } }));

    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      name: 'ValidationError',
      status: 422,
      code: 'validation_failed',
      message: 'data.age must be at most 120',
      details,
      requestId: 'req-42',
    });
  });

  it.each([
    [400, 'bad_request', 'Missing x-app-id header'],
    [400, 'invalid_json', 'The body is not valid JSON'],
    [403, 'origin_not_allowed', 'This origin may not submit to this app'],
    [404, 'unknown_app', 'No app has this id'],
    [413, 'payload_too_large', 'The body is larger than 16 KiB'],
    [415, 'unsupported_media_type', 'Use application/json'],
  ])('passes %i %s through with its message and empty details, without retrying', async (status, code, message) => {
    const fetch = scriptedFetch(errorResponse(status, code, message), jsonResponse(200, stored));

    const error = await failure(client(fetch).submit({ email: 'ada@example.com', data: {} }));

    expect(error).toMatchObject({ status, code, message, details: [] });
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('reads Retry-After on 429 and does not retry', async () => {
    const fetch = scriptedFetch(errorResponse(429, 'rate_limited', 'Too many requests', { headers: { 'retry-after': '7' } }));

    const error = await failure(client(fetch).getSchema());

    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ name: 'RateLimitedError', status: 429, code: 'rate_limited', retryAfterSeconds: 7, retryAfter: 7 });
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('reports an answer that is not the error shape as http_error', async () => {
    const fetch = scriptedFetch(new Response('<html>Bad gateway</html>', { status: 502 }));

    const error = await failure(client(fetch).getSchema());

    expect(error).toMatchObject({ status: 502, code: 'http_error', message: 'HTTP 502' });
  });

  it('reports a 200 that is not JSON as invalid_response', async () => {
    const fetch = scriptedFetch(new Response('not json', { status: 200 }));

    const error = await failure(client(fetch).getSchema());

    expect(error).toMatchObject({ status: 200, code: 'invalid_response' });
  });
});

describe('retry', () => {
  it('retries once after a network failure and resolves when the second try succeeds', async () => {
    const fetch = scriptedFetch(new TypeError('Failed to fetch'), jsonResponse(200, stored));

    await expect(client(fetch).submit({ email: 'ada@example.com', data: {} })).resolves.toEqual(stored);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('gives up after exactly one retry with network_error', async () => {
    const fetch = scriptedFetch(new TypeError('Failed to fetch'), new TypeError('Failed to fetch'), jsonResponse(200, stored));

    const error = await failure(client(fetch).submit({ email: 'ada@example.com', data: {} }));

    expect(error).toMatchObject({ status: 0, code: 'network_error' });
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('retries once after a 503 and resolves when the store is back', async () => {
    const fetch = scriptedFetch(errorResponse(503, 'storage_unavailable', 'Storage is unavailable'), jsonResponse(200, stored));

    await expect(client(fetch).submit({ email: 'ada@example.com', data: {} })).resolves.toEqual(stored);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('gives up after one retry of a 503 with storage_unavailable', async () => {
    const unavailable = () => errorResponse(503, 'storage_unavailable', 'Storage is unavailable', { headers: { 'retry-after': '2' } });
    const fetch = scriptedFetch(unavailable(), unavailable(), jsonResponse(200, stored));

    const error = await failure(client(fetch).getSchema());

    expect(error).toMatchObject({ status: 503, code: 'storage_unavailable', retryAfterSeconds: 2 });
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it.each([400, 403, 404, 409, 413, 415, 422, 429])('never retries a %i', async (status) => {
    const fetch = scriptedFetch(errorResponse(status, 'some_code', 'refused'), jsonResponse(200, stored));

    await failure(client(fetch).submit({ email: 'ada@example.com', data: {} }));

    expect(fetch).toHaveBeenCalledTimes(1);
  });
});

describe('timeout', () => {
  it('aborts a request that takes longer than timeoutMs with code timeout, and does not retry it', async () => {
    let aborted = false;
    const fetch = scriptedFetch();
    fetch.mockImplementation(
      (_url, init) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => {
            aborted = true;
            reject(new DOMException('The operation was aborted.', 'AbortError'));
          });
        }),
    );

    const started = Date.now();
    const error = await failure(client(fetch, { timeoutMs: 30 }).getSchema());

    expect(error).toMatchObject({ status: 0, code: 'timeout', message: 'The service did not answer within 30 ms' });
    expect(aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});

describe('against a real HTTP server with Node global fetch', () => {
  it('sends the headers and body over the wire and reads x-request-id', async () => {
    const seen: { method?: string; url?: string; headers?: IncomingMessage['headers']; body?: string }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        seen.push({ method: request.method, url: request.url, headers: request.headers, body });
        if (request.url === '/v1/users') {
          response.writeHead(422, { 'content-type': 'application/json', 'x-request-id': 'abc' });
          response.end(JSON.stringify({ error: { code: 'validation_failed', message: 'email is required', details: [{ field: 'email', code: 'required', message: 'is required' }] } }));
        } else {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify(exampleSchema));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const users = createUsersClient({ baseUrl: `http://127.0.0.1:${port}`, appId: 'my-site' });

      await expect(users.getSchema()).resolves.toEqual(exampleSchema);
      const error = await failure(users.submit({ email: '', data: {} }));

      expect(error).toMatchObject({ status: 422, code: 'validation_failed', requestId: 'abc' });
      expect(seen[0]).toMatchObject({ method: 'GET', url: '/v1/schema', headers: { 'x-app-id': 'my-site' } });
      expect(seen[1]).toMatchObject({
        method: 'POST',
        url: '/v1/users',
        headers: { 'x-app-id': 'my-site', 'content-type': 'application/json' },
      });
      expect(JSON.parse(seen[1]!.body!)).toEqual({ email: '', data: {} });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
