import { vi } from 'vitest';

import type { Schema } from '../src/index.js';

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  extra: { details?: unknown[]; headers?: Record<string, string> } = {},
): Response {
  const error: Record<string, unknown> = { code, message };
  if (extra.details) error.details = extra.details;
  return jsonResponse(status, { error }, extra.headers);
}

/** A fetch that answers each call with the next of `answers` (a Response, or an Error to throw). */
export function scriptedFetch(...answers: (Response | Error)[]) {
  return vi.fn<typeof fetch>(async () => {
    const next = answers.shift();
    if (next === undefined) throw new Error('scriptedFetch: no answer left');
    if (next instanceof Error) throw next;
    return next;
  });
}

/** The DESIGN.md example schema: every kind, with every rule. */
export const exampleSchema: Schema = {
  version: 3,
  rejectUnknown: true,
  fields: [
    { key: 'fullName', label: 'Full name', kind: 'text', required: true, minLength: 2, maxLength: 80 },
    { key: 'age', label: 'Age', kind: 'number', required: false, min: 13, max: 120, integer: true },
    { key: 'plan', label: 'Plan', kind: 'select', required: true, enum: ['free', 'pro'] },
    { key: 'birthday', label: 'Birthday', kind: 'date', required: false, min: '1900-01-01' },
    { key: 'consentRequired', label: 'I agree to the terms', kind: 'checkbox', required: true },
    { key: 'consentOptional', label: 'Send me news', kind: 'checkbox', required: false },
  ],
};
