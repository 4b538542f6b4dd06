// Browser test of the React/Vite example against the real service:
//   the example is built with `vite build`, served from one loopback origin (allowed by the app)
//   and from another (not allowed); the service runs on a third port on a fresh SQLite file
//   that the CLI prepared; Debian's Chromium, driven by playwright-core, fills in the form.
//
// Needs: target/debug/users-api (`cargo build -p server`, or USERS_API_BIN), /usr/bin/chromium
// (or CHROMIUM_PATH), and the client built (clients/js/dist). scripts/test-js.sh does all that.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const exampleDir = resolve(here, '..');
const repoRoot = resolve(exampleDir, '../..');
const binary = process.env.USERS_API_BIN ?? join(repoRoot, 'target/debug/users-api');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The schema of the docs (docs/schema.md), so the documented sample is proven to be accepted.
const schemaFile = join(repoRoot, 'clients/js/test/docs-samples/schema-example.json');
const errorExampleFile = join(repoRoot, 'clients/js/test/docs-samples/error-example.json');
// Screenshots go to a temporary folder, so that a test run leaves the checkout as it was;
// UPDATE_SCREENSHOTS=1 writes them over the committed ones (e2e/screenshots, shown in the docs).
const screenshotDir = process.env.UPDATE_SCREENSHOTS === '1'
  ? join(here, 'screenshots')
  : mkdtempSync(join(tmpdir(), 'users-api-screenshots-'));
const appId = 'e2e-signup';
const email = 'ada.lovelace@example.com';

const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** Everything started in `before`, stopped in `after`. */
const ctx = {
  workDir: '',
  apiPort: 0,
  siteOrigin: '',
  otherOrigin: '',
  serviceEnv: /** @type {NodeJS.ProcessEnv} */ ({}),
  server: /** @type {import('node:child_process').ChildProcess | undefined} */ (undefined),
  serverLog: '',
  staticServers: /** @type {import('node:http').Server[]} */ ([]),
  browser: /** @type {import('playwright-core').Browser | undefined} */ (undefined),
};

async function freePort() {
  const probe = createServer();
  await new Promise((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = /** @type {import('node:net').AddressInfo} */ (probe.address());
  await new Promise((done) => probe.close(done));
  return port;
}

/** Runs the users-api CLI against the test's SQLite file; fails the test with its output if it fails. */
async function cli(...args) {
  try {
    const { stdout } = await run(binary, args, { cwd: repoRoot, env: ctx.serviceEnv, timeout: 60_000 });
    return stdout;
  } catch (error) {
    const e = /** @type {{ stdout?: string; stderr?: string; message: string }} */ (error);
    throw new Error(`users-api ${args.join(' ')} failed: ${e.message}\nstdout: ${e.stdout}\nstderr: ${e.stderr}`);
  }
}

const contentTypes = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** A static file server for the built site, on a loopback port, falling back to index.html. */
async function serveStatic(root, port) {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    let file = normalize(join(root, path));
    if (!file.startsWith(root + sep) || !existsSync(file) || statSync(file).isDirectory()) {
      file = join(root, 'index.html');
    }
    response.writeHead(200, { 'content-type': contentTypes[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  await new Promise((done) => server.listen(port, '127.0.0.1', done));
  ctx.staticServers.push(server);
  return `http://127.0.0.1:${port}`;
}

async function waitForHealth(baseUrl, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (ctx.server?.exitCode !== null) {
      throw new Error(`users-api serve exited with ${ctx.server?.exitCode}:\n${readLog()}`);
    }
    try {
      const response = await fetch(`${baseUrl}/health`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`users-api did not answer GET /health with 200 within ${timeoutMs} ms:\n${readLog()}`);
}

function readLog() {
  return existsSync(ctx.serverLog) ? readFileSync(ctx.serverLog, 'utf8').slice(-4000) : '(no log)';
}

before(async () => {
  assert.ok(existsSync(binary), `${binary} is missing: run \`cargo build -p server\` in ${repoRoot} (or set USERS_API_BIN)`);
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  assert.ok(
    existsSync(join(repoRoot, 'clients/js/dist/react/index.js')),
    'clients/js/dist is missing: run `npm run build` in clients/js',
  );

  ctx.workDir = mkdtempSync(join(tmpdir(), 'users-api-e2e-'));
  ctx.serverLog = join(ctx.workDir, 'server.log');
  const [apiPort, sitePort, otherPort] = [await freePort(), await freePort(), await freePort()];
  ctx.apiPort = apiPort;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  ctx.serviceEnv = {
    ...process.env,
    USERS_API__STORAGE__BACKEND: 'sqlite',
    USERS_API__STORAGE__SQLITE__PATH: join(ctx.workDir, 'users.db'),
    USERS_API__RATE_LIMIT__ENABLED: 'false',
    // The platform admin whose management API session reads the stored records back.
    USERS_API__ADMIN__BOOTSTRAP_EMAIL: adminEmail,
    USERS_API__ADMIN__BOOTSTRAP_PASSWORD: adminPassword,
    PORT: String(apiPort),
  };

  // The app and its schema, written by the CLI before the server starts (it caches apps).
  await cli('app', 'create', '--id', appId, '--name', 'E2E sign-up', '--origin', `http://127.0.0.1:${sitePort}`, '--honeypot', 'website');
  await cli('app', 'schema', '--id', appId, '--file', schemaFile);

  // The example, built as a site owner would build it.
  const dist = join(ctx.workDir, 'dist');
  await run(process.execPath, [join(exampleDir, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', dist, '--emptyOutDir'], {
    cwd: exampleDir,
    env: { ...process.env, VITE_USERS_API_URL: apiUrl, VITE_USERS_API_APP_ID: appId },
    timeout: 120_000,
  });

  const log = openSync(ctx.serverLog, 'a');
  ctx.server = spawn(binary, ['serve'], { cwd: repoRoot, env: ctx.serviceEnv, stdio: ['ignore', log, log] });
  await waitForHealth(apiUrl, 60_000);

  ctx.siteOrigin = await serveStatic(dist, sitePort);
  ctx.otherOrigin = await serveStatic(dist, otherPort);
  ctx.browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  mkdirSync(screenshotDir, { recursive: true });
});

after(async () => {
  await ctx.browser?.close();
  for (const server of ctx.staticServers) server.close();
  if (ctx.server && ctx.server.exitCode === null) {
    const exited = new Promise((done) => ctx.server?.once('exit', done));
    ctx.server.kill('SIGTERM');
    await Promise.race([exited, new Promise((done) => setTimeout(done, 5_000))]);
    if (ctx.server.exitCode === null) ctx.server.kill('SIGKILL');
  }
  if (ctx.workDir && !process.env.KEEP_E2E_TMP) rmSync(ctx.workDir, { recursive: true, force: true });
  if (process.env.UPDATE_SCREENSHOTS !== '1' && !process.env.KEEP_E2E_TMP) {
    rmSync(screenshotDir, { recursive: true, force: true });
  }
});

async function newPage() {
  assert.ok(ctx.browser);
  const page = await ctx.browser.newPage({ viewport: { width: 720, height: 900 } });
  page.setDefaultTimeout(15_000);
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { page, problems };
}

const adminEmail = 'e2e-admin@example.com';
const adminPassword = 'a long e2e admin passphrase';

/** The app's records, through the management API: an admin logs in and lists the app's users. */
async function storedRecords() {
  const apiUrl = `http://127.0.0.1:${ctx.apiPort}`;
  const login = await fetch(`${apiUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: apiUrl },
    body: JSON.stringify({ email: adminEmail, password: adminPassword }),
  });
  assert.equal(login.status, 200, `admin login: ${await login.text()}`);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const listed = await fetch(`${apiUrl}/v1/apps/${appId}/users?limit=500`, { headers: { cookie } });
  assert.equal(listed.status, 200, `GET /v1/apps/${appId}/users: ${await listed.clone().text()}`);
  const body = /** @type {{ users: Array<Record<string, any>>, nextCursor: string | null }} */ (await listed.json());
  assert.equal(body.nextCursor, null);
  return body.users;
}

/** The text of the error element the control points at with aria-describedby. */
async function fieldError(page, name) {
  const control = page.locator(`[name="${name}"]`);
  assert.equal(await control.getAttribute('aria-invalid'), 'true', `${name} is not marked invalid`);
  const errorId = await control.getAttribute('aria-describedby');
  assert.ok(errorId, `${name} has no aria-describedby`);
  return (await page.locator(`[id="${errorId}"]`).textContent())?.trim();
}

describe('the React/Vite example against the service', { timeout: 300_000 }, () => {
  test('a visitor sees a field error, corrects it, and is signed up', async () => {
    const { page, problems } = await newPage();
    await page.goto(ctx.siteOrigin);
    await page.locator('input[name="email"]').waitFor();

    await page.fill('input[name="email"]', email);
    await page.fill('input[name="fullName"]', 'Ada Lovelace');
    await page.fill('input[name="referralCode"]', 'abc-123');
    await page.fill('input[name="age"]', '200');
    await page.selectOption('select[name="plan"]', 'pro');
    await page.fill('input[name="birthday"]', '1990-12-10');
    await page.check('input[name="consentRequired"]');
    await page.click('button[type="submit"]');

    assert.equal(await fieldError(page, 'age'), 'must be at most 120');
    assert.equal(await fieldError(page, 'referralCode'), 'does not have the expected format');
    await page.locator('main').screenshot({ path: join(screenshotDir, '1-field-error.png') });

    await page.fill('input[name="age"]', '36');
    await page.fill('input[name="referralCode"]', 'ABC-123');
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.url().endsWith('/v1/users') && response.request().method() === 'POST'),
      page.click('button[type="submit"]'),
    ]);
    assert.equal(answer.status(), 200);
    const body = await answer.json();
    assert.deepEqual(Object.keys(body).sort(), ['createdAt', 'id', 'updatedAt']);
    assert.equal((await answer.allHeaders())['access-control-allow-origin'], ctx.siteOrigin);

    await page.getByText('Thank you! You are on the list.').waitFor();
    await page.locator('main').screenshot({ path: join(screenshotDir, '2-success.png') });
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('the submission is stored, with typed data', async () => {
    const records = await storedRecords();
    const record = records.find((candidate) => candidate.email === email);
    assert.ok(record, `no record for ${email} in:\n${JSON.stringify(records)}`);
    assert.deepEqual(record.data, {
      fullName: 'Ada Lovelace',
      referralCode: 'ABC-123',
      age: 36,
      plan: 'pro',
      birthday: '1990-12-10',
      consentRequired: true,
      consentOptional: false,
    });
    assert.equal(records.length, 1, 'the refused first attempt must not have stored anything');
  });

  test('a bot that fills the honeypot gets the same success, and nothing is stored', async () => {
    const { page, problems } = await newPage();
    await page.goto(ctx.siteOrigin);
    await page.locator('input[name="email"]').waitFor();

    await page.fill('input[name="email"]', 'bot@example.com');
    await page.fill('input[name="fullName"]', 'Spam Bot');
    await page.selectOption('select[name="plan"]', 'free');
    await page.check('input[name="consentRequired"]');
    // Out of sight and out of the tab order: only a script finds it, and `force` is one.
    await page.locator('input[name="website"]').fill('http://spam.example', { force: true });
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.url().endsWith('/v1/users') && response.request().method() === 'POST'),
      page.click('button[type="submit"]'),
    ]);
    assert.equal(answer.status(), 200);
    assert.deepEqual(Object.keys(await answer.json()).sort(), ['createdAt', 'id', 'updatedAt']);
    await page.getByText('Thank you! You are on the list.').waitFor();

    const records = await storedRecords();
    assert.equal(records.find((record) => record.email === 'bot@example.com'), undefined);
    assert.equal(records.length, 1);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a page from an origin that is not allowed is refused, and the form says why', async () => {
    const { page } = await newPage();
    await page.goto(ctx.otherOrigin);

    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = await alert.textContent();
    assert.match(text ?? '', /allowed origins/);
    assert.ok(text?.includes(ctx.otherOrigin), `the alert does not name ${ctx.otherOrigin}: ${text}`);
    assert.equal(await page.locator('input[name="email"]').count(), 0, 'the form must not render without its schema');
    await page.locator('main').screenshot({ path: join(screenshotDir, '3-origin-refused.png') });
    await page.close();
  });

  test('the service answers that origin with 403 origin_not_allowed and no CORS grant, after a normal preflight', async () => {
    const api = `http://127.0.0.1:${ctx.apiPort}`;
    const preflight = await fetch(`${api}/v1/users`, {
      method: 'OPTIONS',
      headers: {
        origin: ctx.otherOrigin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-app-id',
      },
    });
    assert.ok(preflight.status >= 200 && preflight.status < 300, `preflight answered ${preflight.status}`);

    const refused = await fetch(`${api}/v1/users`, {
      method: 'POST',
      headers: { origin: ctx.otherOrigin, 'content-type': 'application/json', 'x-app-id': appId },
      body: JSON.stringify({ email: 'mallory@example.com', data: {} }),
    });
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).error.code, 'origin_not_allowed');
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
  });

  test('the service answers the documented error example word for word', async () => {
    // docs/schema.md shows this answer for age 200 and plan "gold" under the docs schema.
    const response = await fetch(`http://127.0.0.1:${ctx.apiPort}/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-app-id': appId },
      body: JSON.stringify({ email: 'ada@example.com', data: { fullName: 'Ada', age: 200, plan: 'gold', consentRequired: true } }),
    });
    assert.equal(response.status, 422);
    assert.deepEqual(await response.json(), JSON.parse(readFileSync(errorExampleFile, 'utf8')));
  });
});
