// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import {
  SDK_MODULE_PATH,
  SDK_TARBALL_PATH,
  escapeHtml,
  fetchSnippet,
  htmlFormSnippet,
  jsString,
  moduleSnippet,
  reactSnippet,
  sampleData,
} from '../src/lib/snippets';
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

// Labels and enum values are typed by whoever edits the schema; the snippets end up in other
// people's pages. Keys cannot be hostile (the service allows only [A-Za-z][A-Za-z0-9_]*).
const HOSTILE = `<img src=x onerror="alert(1)">'"&amp;</script><!--`;
const hostileFields: SchemaField[] = [
  { key: 'fullName', label: HOSTILE, kind: 'text', required: true },
  { key: 'plan', label: `Plan ${HOSTILE}`, kind: 'select', required: true, enum: [HOSTILE, 'a"b', "it's"] },
  { key: 'terms', label: HOSTILE, kind: 'checkbox', required: true },
];

function parseHtml(html: string): Document {
  return new DOMParser().parseFromString(`<!doctype html><body>${html}</body>`, 'text/html');
}

describe('snippets with hostile labels and enum values', () => {
  it('HTML form shows labels and options as text, never as markup', () => {
    const html = htmlFormSnippet('https://x', 'my-site', hostileFields, 'website');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('</script>');
    const doc = parseHtml(html);
    expect(doc.querySelectorAll('img, script')).toHaveLength(0);
    expect(doc.querySelectorAll('form')).toHaveLength(1);
    expect(doc.querySelectorAll('[onerror]')).toHaveLength(0);
    const ownText = (l: Element) => [...l.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('').trim();
    const labels = [...doc.querySelectorAll('label')].map(ownText);
    expect(labels).toEqual(['Email', HOSTILE, `Plan ${HOSTILE}`, HOSTILE]);
    const options = [...doc.querySelectorAll('option')];
    expect(options.map((o) => o.value)).toEqual([HOSTILE, 'a"b', "it's"]);
    expect(options.map((o) => o.textContent)).toEqual([HOSTILE, 'a"b', "it's"]);
    expect([...doc.querySelectorAll('input, select')].map((i) => i.getAttribute('name'))).toEqual([
      '_appId',
      'email',
      'fullName',
      'plan',
      'terms',
      'website',
    ]);
  });

  it('HTML form carries the honeypot field, hidden from people', () => {
    const doc = parseHtml(htmlFormSnippet('https://x', 'my-site', fields, 'website'));
    const trap = doc.querySelector('input[name="website"]');
    expect(trap).not.toBeNull();
    expect(trap?.getAttribute('tabindex')).toBe('-1');
    expect(trap?.getAttribute('autocomplete')).toBe('off');
    expect(trap?.getAttribute('style')).toContain('left:-9999px');
    expect(parseHtml(htmlFormSnippet('https://x', 'my-site', fields, null)).querySelector('input[name="website"]')).toBeNull();
  });

  it('fetch snippet sends the hostile label as data and holds no closing script tag', async () => {
    const code = fetchSnippet('https://api.example.com', 'my-site', hostileFields);
    expect(code).not.toMatch(/<\/script/i);
    expect(code).not.toContain('<!--');
    const sent: RequestInit[] = [];
    const fakeFetch = async (_url: string, init: RequestInit) => {
      sent.push(init);
      return new Response(JSON.stringify({ id: 'x' }), { status: 200 });
    };
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (f: unknown) => Promise<unknown>;
    await new AsyncFunction('fetch', code)(fakeFetch);
    const body = JSON.parse(String(sent[0]?.body)) as { data: Record<string, unknown> };
    expect(body.data).toEqual({ fullName: HOSTILE, plan: HOSTILE, terms: true });
  });

  it('module snippet stays one inert script element and submits the hostile values', async () => {
    const html = moduleSnippet('https://api.example.com', 'my-site', hostileFields);
    const doc = parseHtml(html);
    const scripts = doc.querySelectorAll('script');
    expect(scripts).toHaveLength(1);
    expect(doc.querySelectorAll('img')).toHaveLength(0);
    const source = scripts[0]?.textContent ?? '';
    expect(source).toContain(`import { createUsersClient } from "https://api.example.com${SDK_MODULE_PATH}";`);
    // Run the module's body with a stand-in client.
    const submitted: unknown[] = [];
    const createUsersClient = (options: unknown) => ({ submit: async (s: unknown) => (submitted.push([options, s]), { id: 'x' }) });
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (f: unknown) => Promise<unknown>;
    await new AsyncFunction('createUsersClient', source.replace(/^\s*import .*$/m, ''))(createUsersClient);
    expect(submitted).toEqual([
      [
        { baseUrl: 'https://api.example.com', appId: 'my-site' },
        { email: 'ada@example.com', data: { fullName: HOSTILE, plan: HOSTILE, terms: true } },
      ],
    ]);
  });

  it('React snippet installs from the service and quotes what JSX cannot', () => {
    const code = reactSnippet('https://api.example.com', 'my-site', 'website');
    expect(code).toContain(`// npm install https://api.example.com${SDK_TARBALL_PATH}`);
    expect(code).not.toContain('npm install @users-api/client');
    expect(reactSnippet('https://x', 'my-site', 'a"b</script>')).toContain('honeypotField={"a\\"b\\u003c/script>"}');
  });

  it('escapes HTML and JavaScript string contexts', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(jsString('</script>\u2028')).toBe('"\\u003c/script>\\u2028"');
    expect(JSON.parse(jsString(HOSTILE))).toBe(HOSTILE);
  });
});
