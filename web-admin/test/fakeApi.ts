// A fetch stand-in for component tests: answers by "METHOD /path" and records every call.
import { vi } from 'vitest';
import type { MailSettings } from '../src/api/types';

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

type Handler = (call: Call) => { status: number; body?: unknown } | undefined;

export function json(status: number, body?: unknown) {
  return { status, body };
}

export function fakeApi(handler: Handler) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: unknown, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    const path = String(input);
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    const call = { method, path, body };
    calls.push(call);
    if (init?.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const answer = handler(call) ?? json(404, { error: { code: 'not_found', message: `no fake for ${method} ${path}` } });
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'content-type': 'application/json' },
    });
  });
  vi.stubGlobal('fetch', fetchMock);
  return calls;
}

export const app = { sourceAppId: 'site', name: 'Site', allowedOrigins: ['*'], organizationCreation: 'verified_accounts' as const, requireVerifiedEmail: false };

export const mailTemplate = (subject: string) => ({ subject, text: 'Open {{link}}', html: '<a href="{{link}}">open</a>' });

export const settings: MailSettings = {
  senderName: null,
  verifyEmailUrl: 'https://acme.example/verify',
  resetPasswordUrl: null,
  acceptInviteUrl: null,
  templates: { invitation: mailTemplate('Join {{organization_name}}') },
  defaults: {
    templates: { verify_email: mailTemplate('Confirm'), reset_password: mailTemplate('Reset'), invitation: mailTemplate('Invited') },
    verifyEmailUrl: 'http://localhost/account/verify-email',
    resetPasswordUrl: 'http://localhost/account/reset-password',
    acceptInviteUrl: 'http://localhost/account/accept-invite',
  },
  variables: [{ name: 'link', description: 'the link' }],
  fromAddress: 'no-reply@example.com',
};
