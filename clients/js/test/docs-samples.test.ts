import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import {
  createUsersClient,
  mapErrorDetails,
  SUBMIT_RESULT_KEYS,
  UsersApiError,
  validateSubmission,
  type Schema,
} from '../src/index.js';

/**
 * The docs may not drift from tested code: every fenced block in these pages must follow a
 * `<!-- sample: NAME -->` marker, and unless NAME starts with `curl-` or `shell-` (commands the
 * service's own tests run), it must be identical to the file `test/docs-samples/NAME.*`, which
 * this suite type-checks and runs (docs-samples-run.test.tsx, docs-samples-accounts.test.ts and
 * below; the Python one, accounts-verify-pyjwt.py, is run by scripts/test-doc-samples.py).
 */
const repo = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const samplesDir = fileURLToPath(new URL('./docs-samples/', import.meta.url));
const documents = [
  'docs/accounts.md',
  'docs/getting-started.md',
  'docs/react-vite.md',
  'docs/schema.md',
  'docs/security.md',
  'clients/js/README.md',
  'examples/react-vite/README.md',
];
const externalPrefixes = ['curl-', 'shell-'];

interface Block {
  document: string;
  line: number;
  name: string | undefined;
  language: string;
  code: string;
}

function blocksOf(document: string): Block[] {
  const lines = readFileSync(repo(document), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[index]!);
    if (!open) continue;
    const fence = open[1]!;
    let end = index + 1;
    while (end < lines.length && !lines[end]!.startsWith(fence)) end++;
    expect(end, `${document}:${index + 1}: unclosed code block`).toBeLessThan(lines.length);
    let before = index - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const marker = before >= 0 ? /^<!--\s*sample:\s*([\w.-]+)\s*-->$/.exec(lines[before]!.trim()) : null;
    blocks.push({ document, line: index + 1, name: marker?.[1], language: open[2] ?? '', code: lines.slice(index + 1, end).join('\n') });
    index = end;
  }
  return blocks;
}

const blocks = documents.flatMap(blocksOf);
const sampleFiles = readdirSync(samplesDir);
const fileFor = (name: string) => sampleFiles.find((file) => file.split('.')[0] === name);
const sampleText = (name: string) => readFileSync(`${samplesDir}${fileFor(name)}`, 'utf8').replace(/\n+$/, '');
const isExternal = (name: string) => externalPrefixes.some((prefix) => name.startsWith(prefix));

describe('docs samples', () => {
  it('finds code blocks in every page', () => {
    for (const document of documents) {
      expect(blocks.filter((block) => block.document === document).length, document).toBeGreaterThan(0);
    }
  });

  it('marks every code block as a sample', () => {
    const unmarked = blocks.filter((block) => block.name === undefined).map((block) => `${block.document}:${block.line}`);
    expect(unmarked).toEqual([]);
  });

  it('holds each JS/TS/JSON sample exactly as its tested file', () => {
    const local = blocks.filter((block) => block.name !== undefined && !isExternal(block.name));
    expect(local.length).toBeGreaterThanOrEqual(10);
    for (const block of local) {
      const where = `${block.document}:${block.line} (sample ${block.name})`;
      expect(fileFor(block.name!), `${where}: no file test/docs-samples/${block.name}.*`).toBeDefined();
      expect(block.code, where).toBe(sampleText(block.name!));
    }
  });

  it('uses every sample file in some page', () => {
    const used = new Set(blocks.map((block) => block.name));
    const orphans = sampleFiles.filter((file) => !used.has(file.split('.')[0]));
    expect(orphans).toEqual([]);
  });

  it('lists the command samples left to the service tests', () => {
    const external = blocks.filter((block) => block.name !== undefined && isExternal(block.name));
    // Printed, not skipped silently: these run in the service's own test suite.
    console.info(`docs: ${external.length} curl/shell samples not run here (left to the service's tests): ${external.map((b) => b.name).join(', ')}`);
    expect(external.every((block) => ['sh', 'bash', 'shell'].includes(block.language))).toBe(true);
    expect(new Set(external.map((block) => block.name)).size).toBe(external.length);
  });
});

describe('the example project uses the documented code', () => {
  it.each([
    ['react-signup-form', 'examples/react-vite/src/SignupForm.tsx'],
    ['vite-env', 'examples/react-vite/src/vite-env.d.ts'],
    ['env-example', 'examples/react-vite/.env.example'],
  ])('%s is %s', (name, path) => {
    expect(readFileSync(repo(path), 'utf8').replace(/\n+$/, '')).toBe(sampleText(name));
  });
});

describe('JSON samples', () => {
  const json = (name: string): unknown => JSON.parse(sampleText(name));
  const schema = { version: 1, ...(json('schema-example') as Omit<Schema, 'version'>) };

  it('schema-example keeps within the schema limits and uses every kind', () => {
    expect(schema.fields.length).toBeLessThanOrEqual(100);
    for (const field of schema.fields) {
      expect(field.key).toMatch(/^[A-Za-z][A-Za-z0-9_]{0,63}$/);
      if (field.kind === 'text' && field.regex !== undefined) expect([...field.regex].length).toBeLessThanOrEqual(512);
    }
    expect(new Set(schema.fields.map((field) => field.kind))).toEqual(new Set(['text', 'number', 'select', 'date', 'checkbox']));
    expect(schema).not.toHaveProperty('fields.0.version');
  });

  it('submission-example passes schema-example', () => {
    const submission = json('submission-example') as { email: string; data: Record<string, string | number | boolean> };
    expect(validateSubmission(schema, submission)).toEqual({});
  });

  it('error-example is what the schema rules say for such values, and the client reads it', async () => {
    const body = json('error-example') as { error: { details: { field: string; code: string; message: string }[] } };
    const found = validateSubmission(schema, { email: 'ada@example.com', data: { fullName: 'Ada', age: 200, plan: 'gold', consentRequired: true } });
    expect(body.error.details).toEqual(Object.entries(found).map(([key, error]) => ({ field: `data.${key}`, ...error })));

    const users = createUsersClient({
      baseUrl: 'http://localhost:8080',
      appId: 'my-marketing-site',
      fetch: async () => new Response(JSON.stringify(body), { status: 422 }),
    });
    const error = await users.submit({ email: 'ada@example.com', data: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsersApiError);
    const { fieldErrors } = mapErrorDetails((error as UsersApiError).details, schema.fields.map((field) => field.key));
    expect(Object.keys(fieldErrors)).toEqual(['age', 'plan']);
  });

  it('submit-response has exactly the fields of SubmitResult, in the service formats', () => {
    const response = json('submit-response') as Record<string, string>;
    expect(Object.keys(response).sort()).toEqual([...SUBMIT_RESULT_KEYS].sort());
    expect(response.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(response.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});
