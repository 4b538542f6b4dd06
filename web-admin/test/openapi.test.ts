// Checks that every route the dashboard calls exists, with the methods it uses, in the
// service's OpenAPI document. Save it first:  curl -s http://127.0.0.1:3000/openapi.json > /tmp/openapi.json
// then  USERS_API_OPENAPI=/tmp/openapi.json npm test
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_ENDPOINTS } from '../src/api/types';

const file = process.env.USERS_API_OPENAPI;
if (!file) console.log('openapi.test.ts: skipped — set USERS_API_OPENAPI to a saved /openapi.json to check the API paths.');

/** `{id}` and `{appId}` name the same slot. */
const shape = (path: string) => path.replace(/\{[^}]+\}/g, '{}');

describe.skipIf(!file)('the OpenAPI document', () => {
  it('has every path and method the dashboard uses', () => {
    const document = JSON.parse(readFileSync(file as string, 'utf8')) as { paths?: Record<string, Record<string, unknown>> };
    const paths = new Map(Object.entries(document.paths ?? {}).map(([path, item]) => [shape(path), item]));
    const missing: string[] = [];
    for (const { path, methods } of API_ENDPOINTS) {
      const item = paths.get(shape(path));
      for (const method of methods) {
        if (!item || !(method.toLowerCase() in item)) missing.push(`${method} ${path}`);
      }
    }
    expect(missing, `missing from ${file}`).toEqual([]);
  });
});
