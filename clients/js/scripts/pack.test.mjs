// `npm pack` must produce a tarball that installs and imports in a project of its own:
// the three entry points, their types, and a real round trip over HTTP with Node's global fetch.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const work = mkdtempSync(join(tmpdir(), 'users-api-client-pack-'));
const consumer = join(work, 'consumer');
let tarball = '';
let files = [];

const lock = JSON.parse(readFileSync(join(packageDir, 'package-lock.json'), 'utf8'));
const lockedVersion = (name) => lock.packages[`node_modules/${name}`].version;

before(async () => {
  const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', work], { cwd: packageDir, maxBuffer: 16 << 20 });
  // `prepack` prints the build's output before the JSON; the JSON is the last thing printed.
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('[\n')));
  tarball = join(work, packed.filename);
  files = packed.files.map((file) => file.path);

  writeFileSync(join(work, 'package.json'), '{}');
  await run('mkdir', ['-p', consumer]);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run(
    npm,
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      tarball,
      `react@${lockedVersion('react')}`,
      `react-dom@${lockedVersion('react-dom')}`,
      `@types/react@${lockedVersion('@types/react')}`,
    ],
    { cwd: consumer, maxBuffer: 16 << 20 },
  );
});

after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds the built code and types, and no sources or tests', () => {
  for (const expected of [
    'package.json',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/react/index.js',
    'dist/react/index.d.ts',
    'dist/server/index.js',
    'dist/server/index.d.ts',
  ]) {
    assert.ok(files.includes(expected), `${expected} is missing from ${files.join(', ')}`);
  }
  const stray = files.filter((file) => !file.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(file));
  assert.deepEqual(stray, []);
});

test('the only runtime dependency is jose, and only the server entry reaches it', () => {
  const installed = JSON.parse(readFileSync(join(consumer, 'node_modules/@users-api/client/package.json'), 'utf8'));
  assert.deepEqual(Object.keys(installed.dependencies ?? {}), ['jose']);
  assert.deepEqual(installed.peerDependenciesMeta, { react: { optional: true } });
  // What the browser entries import, followed file by file: never jose, never node:*.
  const dist = join(consumer, 'node_modules/@users-api/client/dist');
  const reached = new Set();
  const visit = (file) => {
    if (reached.has(file)) return;
    reached.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [, specifier] of source.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g)) {
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      else assert.ok(specifier === 'react' || specifier.startsWith('react/'), `${file} imports ${specifier}`);
    }
  };
  visit(join(dist, 'index.js'));
  visit(join(dist, 'react/index.js'));
  assert.ok(![...reached].some((file) => file.includes(`${join('dist', 'server')}`)), 'a browser entry reaches dist/server');
});

test('both entry points import in Node, and the client talks to a server with global fetch', async () => {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ version: 1, rejectUnknown: true, fields: [], appId: request.headers['x-app-id'] }));
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  const script = `
    import { createUsersClient, UsersApiError } from '@users-api/client';
    import { UsersForm, useUsersForm } from '@users-api/client/react';
    import { createServerClient } from '@users-api/client/server';
    import { createElement } from 'react';
    import { renderToString } from 'react-dom/server';
    const users = createUsersClient({ baseUrl: 'http://127.0.0.1:${port}', appId: 'packed' });
    const schema = await users.getSchema();
    const html = renderToString(createElement(UsersForm, { client: users }));
    const server = createServerClient({ baseUrl: 'http://127.0.0.1:${port}', appId: 'packed', apiKey: 'uak_x' });
    console.log(JSON.stringify({ appId: schema.appId, error: typeof UsersApiError, hook: typeof useUsersForm, verify: typeof server.verifyAccessToken, html }));
  `;
  try {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer });
    const seen = JSON.parse(stdout);
    assert.equal(seen.appId, 'packed');
    assert.equal(seen.error, 'function');
    assert.equal(seen.hook, 'function');
    assert.equal(seen.verify, 'function');
    assert.match(seen.html, /Loading the form/);
  } finally {
    server.close();
  }
});

test('the published types resolve for a TypeScript consumer (NodeNext)', async () => {
  writeFileSync(
    join(consumer, 'consumer.ts'),
    `import { createUsersClient, type Schema, type SubmitResult, UsersApiError } from '@users-api/client';
import { UsersForm, type UsersFormProps } from '@users-api/client/react';
import { createServerClient, type AccessTokenClaims } from '@users-api/client/server';
const users = createUsersClient({ baseUrl: 'https://users.example.com', appId: 'x', timeoutMs: 5000 });
export const schema: Promise<Schema> = users.getSchema();
export const result: Promise<SubmitResult> = users.submit({ email: 'a@example.com', data: { age: 3, ok: true } });
export const props: UsersFormProps = { client: users, variant: 'unstyled' };
export const form = UsersForm;
export const me = users.users.me();
const server = createServerClient({ baseUrl: 'https://users.example.com', appId: 'x', apiKey: 'uak_x' });
export const claims: Promise<AccessTokenClaims> = server.verifyAccessToken('t');
export const isError = (e: unknown): boolean => e instanceof UsersApiError && e.code === 'rate_limited';
// @ts-expect-error: data values are strings, numbers, booleans or null
users.submit({ email: 'a@example.com', data: { nested: { no: 1 } } });
`,
  );
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM'], strict: true, noEmit: true, jsx: 'react-jsx', types: [] },
      files: ['consumer.ts'],
    }),
  );
  const tsc = join(packageDir, 'node_modules/typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', consumer]).catch((error) => {
    assert.fail(`tsc failed for the consumer:\n${error.stdout}${error.stderr}`);
  });
});
