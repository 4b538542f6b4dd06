// "Connect your site" snippets for one app. Labels and enum values come from the app's schema
// and are typed by whoever edits it: every value is escaped for the context it lands in (HTML
// text, HTML attribute, JavaScript string), so a label like `<img src=x onerror=…>` is shown as
// text and never becomes markup or code in the page a site owner pastes the snippet into.
import type { SchemaField } from '../api/types';

/** Where the service serves the client: an ES module for pages, a tarball for npm. */
export const SDK_MODULE_PATH = '/sdk/v1.js';
export const SDK_TARBALL_PATH = '/sdk/users-api-client.tgz';

/** Text for an HTML text node or a double- or single-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/**
 * A JavaScript string literal (double-quoted) that also stays inert inside an inline
 * `<script>`: `<` is written as `\u003c`, so `</script>` or `<!--` cannot end or bend the
 * element, and the line separators U+2028/U+2029 are escaped for older parsers.
 */
export function jsString(text: string): string {
  return escapeJsonForScript(JSON.stringify(text));
}

/** The same escaping over JSON text (only its strings can hold these characters). */
function escapeJsonForScript(json: string): string {
  return json.replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A JSX attribute: `name="value"` when that needs no escaping (JSX strings have none), else `name={"…"}`. */
function jsxAttribute(name: string, value: string): string {
  return /^[A-Za-z0-9_.:/-]*$/.test(value) ? `${name}="${value}"` : `${name}={${jsString(value)}}`;
}

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
  const data = escapeJsonForScript(JSON.stringify(sampleData(fields), null, 2)).replace(/\n/g, '\n    ');
  return `const response = await fetch(${jsString(`${baseUrl}/v1/users`)}, {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    'x-app-id': ${jsString(appId)},
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

/** A page without a build step: the client as an ES module served by the service itself. */
export function moduleSnippet(baseUrl: string, appId: string, fields: SchemaField[]): string {
  const data = escapeJsonForScript(JSON.stringify(sampleData(fields), null, 2)).replace(/\n/g, '\n    ');
  return `<script type="module">
  import { createUsersClient } from ${jsString(`${baseUrl}${SDK_MODULE_PATH}`)};

  const users = createUsersClient({ baseUrl: ${jsString(baseUrl)}, appId: ${jsString(appId)} });
  const { id } = await users.submit({
    email: 'ada@example.com',
    data: ${data},
  });
</script>`;
}

export function reactSnippet(baseUrl: string, appId: string, honeypotField?: string | null): string {
  const honeypot = honeypotField ? ` ${jsxAttribute('honeypotField', honeypotField)}` : '';
  return `// npm install ${baseUrl}${SDK_TARBALL_PATH}
import { createUsersClient } from '@users-api/client';
import { UsersForm } from '@users-api/client/react';

const client = createUsersClient({
  baseUrl: ${jsString(baseUrl)},
  appId: ${jsString(appId)},
});

export function SignUp() {
  // Renders the fields of this app's schema (GET /v1/schema) and submits them.
  return <UsersForm client={client}${honeypot} />;
}`;
}

export function htmlFormSnippet(baseUrl: string, appId: string, fields: SchemaField[], honeypotField?: string | null): string {
  const inputs = fields
    .map((f) => {
      const req = f.required ? ' required' : '';
      const name = escapeHtml(f.key);
      const label = escapeHtml(f.label);
      if (f.kind === 'checkbox') return `  <label><input type="checkbox" name="${name}" value="true"${req}> ${label}</label>`;
      if (f.kind === 'select') {
        const options = (f.enum ?? []).map((o) => `<option value="${escapeHtml(o)}">${escapeHtml(o)}</option>`).join('');
        return `  <label>${label} <select name="${name}"${req}>${options}</select></label>`;
      }
      const type = f.kind === 'number' ? 'number' : f.kind === 'date' ? 'date' : 'text';
      return `  <label>${label} <input type="${type}" name="${name}"${req}></label>`;
    })
    .join('\n');
  // The honeypot: off screen and out of the tab order, so people leave it empty and bots fill it.
  const honeypot = honeypotField
    ? `\n  <input type="text" name="${escapeHtml(honeypotField)}" tabindex="-1" autocomplete="off" aria-hidden="true" style="position:absolute;left:-9999px">`
    : '';
  return `<form method="post" action="${escapeHtml(`${baseUrl}/v1/users`)}">
  <input type="hidden" name="_appId" value="${escapeHtml(appId)}">
  <label>Email <input type="email" name="email" required></label>
${inputs}${honeypot}
  <button type="submit">Sign up</button>
</form>`;
}
