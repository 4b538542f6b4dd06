import { describe, expect, it } from 'vitest';
import { fetchSnippet, htmlFormSnippet, reactSnippet, sampleData } from '../src/lib/snippets';
import type { SchemaField } from '../src/api/types';

const fields: SchemaField[] = [
  { key: 'fullName', label: 'Full name', kind: 'text', required: true },
  { key: 'plan', label: 'Plan', kind: 'select', required: true, enum: ['free', 'pro'] },
  { key: 'news', label: 'News', kind: 'checkbox', required: false },
];

describe('connect-your-site snippets', () => {
  it('fetch snippet posts to /v1/users with the app id header and valid sample data', () => {
    const code = fetchSnippet('https://api.example.com', 'my-site', fields);
    expect(code).toContain('"https://api.example.com/v1/users"');
    expect(code).toContain(`'x-app-id': "my-site"`);
    expect(sampleData(fields)).toEqual({ fullName: 'Full name', plan: 'free' });
    // The snippet is valid JavaScript (inside an async function).
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => unknown;
    expect(() => new AsyncFunction(code)).not.toThrow();
  });

  it('React snippet uses createUsersClient and UsersForm', () => {
    const code = reactSnippet('https://api.example.com', 'my-site', 'website');
    expect(code).toContain("import { createUsersClient } from '@users-api/client';");
    expect(code).toContain("import { UsersForm } from '@users-api/client/react';");
    expect(code).toContain('appId: "my-site"');
    expect(code).toContain('<UsersForm client={client} honeypotField="website" />');
  });

  it('HTML form carries the app id in _appId', () => {
    expect(htmlFormSnippet('https://x', 'my-site', fields)).toContain('<input type="hidden" name="_appId" value="my-site">');
  });
});
