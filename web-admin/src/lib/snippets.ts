// "Connect your site" snippets for one app.
import type { SchemaField } from '../api/types';

function sampleValue(field: SchemaField): unknown {
  switch (field.kind) {
    case 'number':
      return typeof field.min === 'number' ? field.min : 1;
    case 'checkbox':
      return true;
    case 'select':
      return field.enum?.[0] ?? '';
    case 'date':
      return typeof field.min === 'string' ? field.min : '2000-01-01';
    default:
      return field.label || field.key;
  }
}

export function sampleData(fields: SchemaField[]): Record<string, unknown> {
  return Object.fromEntries(fields.filter((f) => f.required || f.kind !== 'checkbox').map((f) => [f.key, sampleValue(f)]));
}

export function fetchSnippet(baseUrl: string, appId: string, fields: SchemaField[]): string {
  const data = JSON.stringify(sampleData(fields), null, 2).replace(/\n/g, '\n    ');
  return `const response = await fetch(${JSON.stringify(`${baseUrl}/v1/users`)}, {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    'x-app-id': ${JSON.stringify(appId)},
  },
  body: JSON.stringify({
    email: 'ada@example.com',
    data: ${data},
  }),
});
if (!response.ok) {
  const { error } = await response.json();
  // error.message is written for people; error.details lists the fields at fault.
  throw new Error(error.message);
}
const { id } = await response.json();`;
}

export function reactSnippet(baseUrl: string, appId: string, honeypotField?: string | null): string {
  const honeypot = honeypotField ? ` honeypotField=${JSON.stringify(honeypotField)}` : '';
  return `// npm install @users-api/client
import { createUsersClient } from '@users-api/client';
import { UsersForm } from '@users-api/client/react';

const client = createUsersClient({
  baseUrl: ${JSON.stringify(baseUrl)},
  appId: ${JSON.stringify(appId)},
});

export function SignUp() {
  // Renders the fields of this app's schema (GET /v1/schema) and submits them.
  return <UsersForm client={client}${honeypot} />;
}`;
}

export function htmlFormSnippet(baseUrl: string, appId: string, fields: SchemaField[]): string {
  const inputs = fields
    .map((f) => {
      const req = f.required ? ' required' : '';
      if (f.kind === 'checkbox') return `  <label><input type="checkbox" name="${f.key}" value="true"${req}> ${f.label}</label>`;
      if (f.kind === 'select')
        return `  <label>${f.label} <select name="${f.key}"${req}>${(f.enum ?? []).map((o) => `<option>${o}</option>`).join('')}</select></label>`;
      const type = f.kind === 'number' ? 'number' : f.kind === 'date' ? 'date' : 'text';
      return `  <label>${f.label} <input type="${type}" name="${f.key}"${req}></label>`;
    })
    .join('\n');
  return `<form method="post" action="${baseUrl}/v1/users">
  <input type="hidden" name="_appId" value="${appId}">
  <label>Email <input type="email" name="email" required></label>
${inputs}
  <button type="submit">Sign up</button>
</form>`;
}
