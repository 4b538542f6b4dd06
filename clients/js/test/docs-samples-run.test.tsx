// @vitest-environment jsdom
// Runs the JS/TS samples of the docs (test/docs-samples/*.ts[x]) against a stubbed service.
import { cleanup, render, screen } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import schemaExample from './docs-samples/schema-example.json' with { type: 'json' };
import { errorResponse, jsonResponse } from './helpers.js';

const stored = { id: '0190f5b2-7c4e-7d2a-9a53-3f1c2b8e4d11', createdAt: '2025-01-02T03:04:05.678Z', updatedAt: '2025-01-02T03:04:05.678Z' };

/** A stand-in for the service on fetch: the docs schema, and `answer` for submissions. */
function stubService(answer: () => Response | Promise<Response> = () => jsonResponse(200, stored), schema: object = schemaExample) {
  const fetch = vi.fn<typeof globalThis.fetch>(async (input) => {
    const url = String(input);
    if (url.endsWith('/v1/schema')) return jsonResponse(200, { version: 1, ...schema });
    if (url.endsWith('/v1/users')) return answer();
    return errorResponse(404, 'not_found', 'Nothing here');
  });
  vi.stubGlobal('fetch', fetch);
  return fetch;
}

beforeEach(() => {
  vi.resetModules();
  vi.stubEnv('VITE_USERS_API_URL', 'https://users.example.com');
  vi.stubEnv('VITE_USERS_API_APP_ID', 'my-marketing-site');
});
afterEach(cleanup);

describe('first-submission.ts (getting-started.md)', () => {
  it('posts the sign-up and logs the stored id', async () => {
    const fetch = stubService();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});

    await import('./docs-samples/first-submission.js');

    expect(fetch).toHaveBeenCalledWith('http://localhost:8080/v1/users', expect.objectContaining({ method: 'POST' }));
    expect(log).toHaveBeenCalledWith(`stored ${stored.id} at ${stored.createdAt}`);
  });

  it('logs the typed error when the service refuses', async () => {
    stubService(() => errorResponse(422, 'validation_failed', 'data.plan is required', { details: [{ field: 'data.plan', code: 'required', message: 'is required' }] }));
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});

    await import('./docs-samples/first-submission.js');

    expect(error).toHaveBeenCalledWith(422, 'validation_failed', 'data.plan is required', [{ field: 'data.plan', code: 'required', message: 'is required' }]);
  });
});

describe('plain-fetch.ts (react-vite.md)', () => {
  it('resolves to the id', async () => {
    const fetch = stubService();
    const { signUp } = await import('./docs-samples/plain-fetch.js');

    await expect(signUp('ada@example.com', { fullName: 'Ada' })).resolves.toBe(stored.id);
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('https://users.example.com/v1/users');
    expect(init?.headers).toEqual({ 'content-type': 'application/json', 'x-app-id': 'my-marketing-site' });
  });

  it('throws the field problems of a 422, or the message of another error', async () => {
    stubService(() => errorResponse(422, 'validation_failed', 'x', { details: [{ field: 'data.age', code: 'max', message: 'must be at most 120' }] }));
    const { signUp } = await import('./docs-samples/plain-fetch.js');
    await expect(signUp('ada@example.com', { age: 200 })).rejects.toThrow('data.age must be at most 120');

    stubService(() => errorResponse(404, 'unknown_app', 'No app has this id'));
    await expect(signUp('ada@example.com', {})).rejects.toThrow('No app has this id');
  });
});

describe('handle-errors.ts (react-vite.md)', () => {
  it('turns each failure into a sentence', async () => {
    stubService();
    const { join } = await import('./docs-samples/handle-errors.js');
    await expect(join('ada@example.com', 'Ada')).resolves.toBe('Thank you! You are on the list.');

    stubService(() => errorResponse(422, 'validation_failed', 'x', { details: [{ field: 'data.fullName', code: 'minLength', message: 'must be at least 2 characters' }] }));
    await expect(join('ada@example.com', 'A')).resolves.toBe('fullName must be at least 2 characters');

    stubService(() => errorResponse(429, 'rate_limited', 'Too many requests', { headers: { 'retry-after': '12' } }));
    await expect(join('ada@example.com', 'Ada')).resolves.toBe('Too many attempts: try again in 12 seconds.');

    const fetch = stubService(() => Promise.reject(new TypeError('Failed to fetch')));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await expect(join('ada@example.com', 'Ada')).resolves.toContain(window.location.origin);
    expect(warn).toHaveBeenCalledWith('sign-up failed', 'network_error', undefined);
    expect(fetch).toHaveBeenCalledTimes(2); // the one retry
  });
});

describe('react-signup-form.tsx (react-vite.md, examples/react-vite)', () => {
  it('renders the docs schema from the env-configured service and signs up', async () => {
    const fetch = stubService();
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const { SignupForm } = await import('./docs-samples/react-signup-form.js');
    const user = userEvent.setup();
    const { container } = render(<SignupForm />);

    await user.type(await screen.findByLabelText(/^Email/), 'ada@example.com');
    await user.type(screen.getByLabelText(/^Full name/), 'Ada Lovelace');
    await user.selectOptions(screen.getByLabelText(/^Plan/), 'free');
    await user.click(screen.getByLabelText(/^I agree/));
    expect(container.querySelector('input[name="website"]')?.getAttribute('tabindex')).toBe('-1');
    await user.click(screen.getByRole('button', { name: 'Join the waiting list' }));

    expect(await screen.findByText('Thank you! You are on the list.')).toBeTruthy();
    expect(fetch).toHaveBeenCalledWith('https://users.example.com/v1/schema', expect.anything());
    expect(info).toHaveBeenCalledWith('signed up as', stored.id);
  });
});

describe('react-custom-form.tsx (react-vite.md)', () => {
  it('shows field errors in its own markup, then thanks by name', async () => {
    const schema = {
      rejectUnknown: true,
      fields: [
        { key: 'fullName', label: 'Full name', kind: 'text', required: true, minLength: 2 },
        { key: 'plan', label: 'Plan', kind: 'select', required: true, enum: ['free', 'pro'] },
      ],
    };
    const fetch = stubService(() => jsonResponse(200, stored), schema);
    const { WaitingListForm } = await import('./docs-samples/react-custom-form.js');
    const user = userEvent.setup();
    render(<WaitingListForm />);

    await user.click(await screen.findByRole('button', { name: 'Join' }));
    expect(screen.getAllByText('is required')).toHaveLength(3);
    expect(fetch).toHaveBeenCalledTimes(1); // the schema only

    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Name'), 'Ada Lovelace');
    await user.selectOptions(screen.getByRole('combobox'), 'pro');
    await user.click(screen.getByRole('button', { name: 'Join' }));

    expect(await screen.findByText('Thanks, Ada Lovelace!')).toBeTruthy();
    expect(JSON.parse(String(fetch.mock.calls[1]![1]?.body))).toEqual({ email: 'ada@example.com', data: { fullName: 'Ada Lovelace', plan: 'pro' } });
  });
});
