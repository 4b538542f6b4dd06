// Browser test of the dashboard against the real service: the users-api binary serves the built
// dashboard (web-admin/dist, via USERS_API__DASHBOARD__DIST) and the API from one origin, on a
// fresh SQLite file; the admin is created with the CLI; Debian's Chromium, driven by
// playwright-core, does what an admin and then an app owner do.
//
// Needs: target/debug/users-api (`cargo build -p server`, or USERS_API_BIN), /usr/bin/chromium
// (or CHROMIUM_PATH) and `npm run build` done. scripts/test-web-admin.sh does all that.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const webAdminDir = resolve(here, '..');
const repoRoot = resolve(webAdminDir, '..');
const binary = process.env.USERS_API_BIN ?? join(repoRoot, 'target/debug/users-api');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const dist = process.env.WEB_ADMIN_DIST ?? join(webAdminDir, 'dist');
// Screenshots go to a temporary folder, so that a test run leaves the checkout as it was;
// UPDATE_SCREENSHOTS=1 writes them over the committed ones (e2e/screenshots, shown in the docs).
const screenshotDir = process.env.UPDATE_SCREENSHOTS === '1'
  ? join(here, 'screenshots')
  : mkdtempSync(join(tmpdir(), 'users-api-screenshots-'));
const adminEmail = 'admin@example.com';
const adminPassword = 'a long admin passphrase';
const appId = 'e2e-site';
const appName = 'E2E site';

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

const ctx = {
  workDir: '',
  baseUrl: '',
  env: /** @type {NodeJS.ProcessEnv} */ ({}),
  server: /** @type {import('node:child_process').ChildProcess | undefined} */ (undefined),
  serverLog: '',
  browser: /** @type {import('playwright-core').Browser | undefined} */ (undefined),
};

async function freePort() {
  const probe = createServer();
  await new Promise((done) => probe.listen(0, '127.0.0.1', () => done(undefined)));
  const address = probe.address();
  await new Promise((done) => probe.close(() => done(undefined)));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

function readLog() {
  try {
    return readFileSync(ctx.serverLog, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '(no server log)';
  }
}

/** Runs the CLI with `input` on stdin; fails with its output if it fails. */
function cli(args, input) {
  return new Promise((done, fail) => {
    const child = execFile(binary, args, { cwd: repoRoot, env: ctx.env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`users-api ${args.join(' ')} failed: ${error.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
      else done(stdout);
    });
    child.stdin?.end(input);
  });
}

async function waitForHealth(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (ctx.server?.exitCode !== null && ctx.server?.exitCode !== undefined) break;
    try {
      const response = await fetch(`${ctx.baseUrl}/health`);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`users-api did not answer GET /health within ${timeoutMs} ms:\n${readLog()}`);
}

before(async () => {
  assert.ok(existsSync(binary), `no users-api binary at ${binary}: run \`cargo build -p server\` or set USERS_API_BIN`);
  assert.ok(existsSync(chromiumPath), `no Chromium at ${chromiumPath}: set CHROMIUM_PATH`);
  assert.ok(existsSync(join(dist, 'index.html')), `no ${dist}/index.html: run \`npm run build\` in web-admin first`);
  ctx.workDir = mkdtempSync(join(tmpdir(), 'users-api-web-admin-'));
  ctx.serverLog = join(ctx.workDir, 'server.log');
  const port = await freePort();
  ctx.baseUrl = `http://127.0.0.1:${port}`;
  ctx.env = {
    ...process.env,
    USERS_API__STORAGE__BACKEND: 'sqlite',
    USERS_API__STORAGE__SQLITE__PATH: join(ctx.workDir, 'db'),
    USERS_API__RATE_LIMIT__ENABLED: 'false',
    USERS_API__DASHBOARD__DIST: dist,
    USERS_API__HASHING__MEMORY_KIB: '8',
    USERS_API__HASHING__ITERATIONS: '1',
    // No SMTP server: the development mailer marks each message sent; poll the outbox often.
    USERS_API__MAIL__POLL_INTERVAL_MS: '200',
    PORT: String(port),
  };
  await cli(['admin', 'create', '--email', adminEmail], `${adminPassword}\n`);
  const log = openSync(ctx.serverLog, 'a');
  ctx.server = spawn(binary, ['serve'], { cwd: repoRoot, env: ctx.env, stdio: ['ignore', log, log] });
  await waitForHealth(60_000);

  // The binary must serve the dashboard itself (same origin as the API).
  const index = await fetch(`${ctx.baseUrl}/`);
  const html = await index.text();
  assert.ok(
    index.ok && html.includes('<div id="root">'),
    `GET / did not answer the built dashboard (status ${index.status}); is dashboard::configure wired and USERS_API__DASHBOARD__DIST read?\n${html.slice(0, 300)}`,
  );
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const asset = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
  assert.ok(asset, 'index.html names no /assets/*.js');
  const assetResponse = await fetch(`${ctx.baseUrl}${asset}`);
  assert.equal(assetResponse.status, 200);
  assert.match(assetResponse.headers.get('content-type') ?? '', /javascript/);
  assert.equal(assetResponse.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const fallback = await fetch(`${ctx.baseUrl}/apps/${appId}/users`);
  assert.equal(fallback.status, 200, 'SPA fallback for /apps/...');
  assert.equal((await fetch(`${ctx.baseUrl}/v1/no-such-route`)).status, 404, 'unknown API paths stay 404');

  ctx.browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  mkdirSync(screenshotDir, { recursive: true });
});

after(async () => {
  await ctx.browser?.close();
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

/** @param {import('playwright-core').Page} page @param {string} name */
async function shot(page, name) {
  await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
}

/** Signs in through the login form. @param {import('playwright-core').Page} page */
async function signIn(page, role, identity, password) {
  await page.goto(`${ctx.baseUrl}/`);
  await page.getByRole('heading', { name: 'Users API' }).waitFor();
  await page.getByLabel(role === 'admin' ? 'Platform admin' : 'App owner').check();
  await page.getByLabel(role === 'admin' ? 'Email' : 'App id').fill(identity);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** @param {import('playwright-core').Page} page */
async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  const session = await page.evaluate(() => fetch('/auth/session').then((r) => r.status));
  assert.equal(session, 401, 'the session ended');
}

/** Rows of the users table: their email cells. @param {import('playwright-core').Page} page */
async function userEmails(page) {
  return page.locator('[data-testid=users-table] tbody td.email').allTextContents();
}

/** POSTs a sign-up as a site would. */
async function submitUser(email, data) {
  const response = await fetch(`${ctx.baseUrl}/v1/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-app-id': appId },
    body: JSON.stringify({ email, data }),
  });
  assert.equal(response.status, 200, `POST /v1/users: ${await response.clone().text()}`);
  return response.json();
}

test('an admin sets up an app; its owner sees only that app', async () => {
  assert.ok(ctx.browser);
  const context = await ctx.browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = /** @type {string[]} */ ([]);
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 40[13]/.test(message.text())) problems.push(`console: ${message.text()}`);
  });

  try {
    // ---- login: a wrong password is answered in words, inline ----
    await page.goto(`${ctx.baseUrl}/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.getByLabel('Platform admin').check();
    await page.getByLabel('Email').fill(adminEmail);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const loginError = await page.getByRole('alert').textContent();
    assert.ok(loginError && loginError.length > 10 && !/invalid_credentials/.test(loginError), `inline error: ${loginError}`);
    await shot(page, 'login');

    // ---- admin: apps list, create an app, one-time password ----
    await signIn(page, 'admin', adminEmail, adminPassword);
    await page.getByRole('heading', { name: 'Apps' }).waitFor();
    await page.getByText('No apps yet').waitFor();
    await page.getByRole('button', { name: 'Create app' }).click();
    const createDialog = page.getByRole('dialog', { name: 'Create app' });
    await createDialog.getByLabel('App id').fill(appId);
    await createDialog.getByLabel('Name').fill(appName);
    await createDialog.getByLabel('Allowed origins').fill('*');
    await createDialog.getByRole('button', { name: 'Create app' }).click();
    const secretPanel = page.getByTestId('one-time-password');
    await secretPanel.waitFor();
    assert.match(await secretPanel.textContent() ?? '', /you will not see it again/i);
    let ownerPassword = await secretPanel.locator('input').inputValue();
    assert.ok(ownerPassword.length >= 20, `one-time password: ${ownerPassword}`);
    await shot(page, 'one-time-password');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    const appRow = page.locator('[data-testid=apps-table] tbody tr', { hasText: appId });
    await appRow.waitFor();
    assert.match(await appRow.textContent() ?? '', /\*/);
    await shot(page, 'apps-list');

    // ---- schema editor: two fields, impact report, save, history ----
    await page.getByRole('link', { name: appName }).click();
    await page.getByRole('link', { name: 'Schema' }).click();
    await page.getByText('No fields yet').waitFor();
    await page.getByRole('button', { name: '+ Add field' }).click();
    await page.locator('input[name=key-0]').fill('fullName');
    await page.locator('input[name=label-0]').fill('Full name');
    await page.locator('input[name=required-0]').check();
    await page.getByRole('button', { name: '+ Add field' }).click();
    await page.locator('input[name=key-1]').fill('plan');
    await page.locator('input[name=label-1]').fill('Plan');
    await page.locator('select[name=kind-1]').selectOption('select');
    await page.locator('textarea[name=options-1]').fill('free\npro');
    const preview = page.getByTestId('form-preview');
    await preview.getByLabel('Full name').waitFor();
    await preview.getByLabel('Plan').waitFor();
    await shot(page, 'schema-editor');
    await page.getByRole('button', { name: 'Review and save…' }).click();
    const review = page.getByRole('dialog', { name: 'Save the new schema?' });
    assert.match(await review.getByTestId('impact').textContent() ?? '', /All 0 stored records pass/);
    await review.getByRole('button', { name: 'Save as version 1' }).click();
    await page.getByText('Saved as version 1.').waitFor();
    await page.getByTestId('versions').getByText('Version 1').waitFor();

    // ---- two sign-ups from a site, seen in the users table ----
    await submitUser('ada@example.com', { fullName: 'Ada Lovelace', plan: 'pro' });
    await submitUser('grace@example.com', { fullName: 'Grace Hopper', plan: 'free' });
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.locator('[data-testid=users-table] tbody tr').nth(1).waitFor();
    assert.deepEqual((await userEmails(page)).sort(), ['ada@example.com', 'grace@example.com']);
    const headers = await page.locator('[data-testid=users-table] thead th').allTextContents();
    assert.ok(headers.includes('Full name') && headers.includes('Plan'), `columns: ${headers}`);
    // Two rows, one page: no room kept for 25 more under them.
    const tableHeight = await page.locator('.table-wrap').evaluate((wrap) => wrap.getBoundingClientRect().height);
    const rowHeight = await page.locator('[data-testid=users-table] tbody tr').first().evaluate((row) => row.getBoundingClientRect().height);
    assert.ok(tableHeight < rowHeight * 5, `the table is ${tableHeight}px high for two rows of ${rowHeight}px`);
    await shot(page, 'users-table');

    // search by email
    await page.getByLabel('Search by email').fill('grace');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=users-table] tbody tr').length === 1);
    assert.deepEqual(await userEmails(page), ['grace@example.com']);
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=users-table] tbody tr').length === 2);

    // record drawer: opens on the email, Escape closes it and focus comes back
    await page.getByRole('button', { name: 'ada@example.com', exact: true }).click();
    const drawer = page.getByRole('dialog', { name: 'ada@example.com', exact: true });
    await drawer.getByTestId('user-detail').getByText('Ada Lovelace').waitFor();
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'ada@example.com');

    // export: the CSV with the page's cookies, and the NDJSON as a download
    const csv = await page.evaluate(async () => {
      const link = /** @type {HTMLAnchorElement} */ (document.querySelector('[data-testid=export-csv]'));
      const response = await fetch(link.href);
      return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
    });
    assert.equal(csv.status, 200);
    assert.match(csv.type ?? '', /csv/);
    assert.match(csv.text, /fullName/);
    assert.match(csv.text, /ada@example\.com/);
    assert.match(csv.text, /grace@example\.com/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-ndjson').click()]);
    const downloaded = await download.path();
    assert.ok(downloaded);
    const lines = readFileSync(downloaded, 'utf8').trim().split('\n');
    assert.equal(lines.length, 2, 'two NDJSON lines');
    assert.ok(lines.every((line) => typeof JSON.parse(line).email === 'string'));

    // erase one, with confirmation
    await page.getByRole('button', { name: 'Erase grace@example.com' }).click();
    const eraseDialog = page.getByRole('dialog', { name: 'Erase user?' });
    await eraseDialog.getByRole('button', { name: 'Erase', exact: true }).click();
    await page.getByText('grace@example.com was erased.').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=users-table] tbody tr').length === 1);
    assert.deepEqual(await userEmails(page), ['ada@example.com']);

    // keyset paging: 26 users make two pages; Next and Previous move by cursor, the pager stays put
    for (let i = 0; i < 25; i += 1) {
      await submitUser(`user${String(i).padStart(2, '0')}@example.com`, { fullName: `User ${i}`, plan: 'free' });
    }
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=users-table] tbody tr').length === 25);
    const pagerTop = () => page.evaluate(() => (document.querySelector('.pager')?.getBoundingClientRect().top ?? 0) + window.scrollY);
    const firstPageTop = await pagerTop();
    const firstPageEmails = await userEmails(page);
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=users-table] tbody tr').length === 1);
    const secondPageEmails = await userEmails(page);
    assert.equal(new Set([...firstPageEmails, ...secondPageEmails]).size, 26, 'the two pages hold all 26 users once');
    assert.equal(await pagerTop(), firstPageTop, 'the pager does not move between pages');
    assert.ok(await page.getByRole('button', { name: 'Next →' }).isDisabled());
    await page.getByRole('button', { name: 'Previous' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=users-table] tbody tr').length === 25);
    assert.deepEqual(await userEmails(page), firstPageEmails);

    // plain HTML forms that fail go to the app's error page
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByLabel('Error page URL').fill('https://site.example/oops');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const stored = await page.evaluate((id) => fetch(`/v1/apps/${id}`).then((r) => r.json()), appId);
    assert.equal(stored.errorUrl, 'https://site.example/oops');

    // rotate the password: shown once; the first one stops working
    await page.getByRole('button', { name: 'Rotate password…' }).click();
    await page.getByRole('dialog', { name: 'Rotate password?' }).getByRole('button', { name: 'Rotate password' }).click();
    const rotatedPanel = page.getByTestId('one-time-password');
    await rotatedPanel.waitFor();
    const firstPassword = ownerPassword;
    const rotatedPassword = await rotatedPanel.locator('input').inputValue();
    assert.ok(rotatedPassword.length >= 20 && rotatedPassword !== firstPassword);
    ownerPassword = rotatedPassword;
    await page.getByRole('button', { name: 'I have copied it' }).click();

    // connect-your-site snippets name this app
    await page.getByRole('link', { name: 'Connect your site' }).click();
    const connect = await page.getByTestId('connect').textContent();
    assert.match(connect ?? '', /createUsersClient/);
    assert.match(connect ?? '', /'x-app-id': "e2e-site"/);

    await signOut(page);

    // ---- the owner: only its app, none of the admin controls ----
    await page.getByLabel('App owner').check();
    await page.getByLabel('App id').fill(appId);
    await page.getByLabel('Password').fill(firstPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await signIn(page, 'owner', appId, ownerPassword);
    await page.waitForURL(`**/apps/${appId}/users`);
    assert.match(await page.getByTestId('who').textContent() ?? '', /App owner · e2e-site/);
    await page.locator('[data-testid=users-table] tbody tr').first().waitFor();
    assert.equal((await userEmails(page)).length, 25);
    assert.equal(await page.getByRole('link', { name: 'Apps', exact: true }).count(), 0, 'no apps breadcrumb');
    await shot(page, 'owner-view');
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByLabel('Name').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Rotate password…' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Delete app…' }).count(), 0);
    assert.equal(await page.getByLabel('Honeypot field').count(), 0);
    assert.equal(await page.getByLabel('Error page URL').count(), 0);
    const apiAsOwner = await page.evaluate(() => fetch('/v1/apps').then((r) => r.status));
    assert.equal(apiAsOwner, 403, 'owners cannot list apps');
    await page.goto(`${ctx.baseUrl}/apps`);
    await page.waitForURL(`**/apps/${appId}/users`);

    // the same screen on a 360 px wide phone
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 360, height: 740 });
    await phone.goto(`${ctx.baseUrl}/apps/${appId}/users`);
    await phone.locator('[data-testid=users-table] tbody tr').first().waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `the page scrolls sideways at 360 px by ${overflow}px`);
    await shot(phone, 'owner-view-360');
    await phone.close();

    // at 390 px every tab is on screen (they wrap onto more lines), Settings included (it used to be cut off)
    const phone390 = await context.newPage();
    await phone390.setViewportSize({ width: 390, height: 844 });
    await phone390.goto(`${ctx.baseUrl}/apps/${appId}/users`);
    await phone390.locator('[data-testid=users-table] tbody tr').first().waitFor();
    const tabs = await phone390.locator('.tabs .tab').evaluateAll((links) =>
      links.map((link) => {
        const box = link.getBoundingClientRect();
        const nav = /** @type {HTMLElement} */ (link.parentElement).getBoundingClientRect();
        return { text: link.textContent, left: box.left, right: box.right, navLeft: nav.left, navRight: nav.right };
      }),
    );
    assert.deepEqual(tabs.map((tab) => tab.text), ['Users', 'Schema', 'Connect your site', 'Accounts', 'Organizations', 'Auth settings', 'API keys', 'E-mail log', 'Settings']);
    for (const tab of tabs) {
      assert.ok(tab.left >= tab.navLeft - 0.5 && tab.right <= Math.min(tab.navRight, 390) + 0.5, `tab cut off at 390 px: ${JSON.stringify(tab)}`);
    }
    await shot(phone390, 'owner-view-390');
    await phone390.close();

    await signOut(page);

    // ---- the admin deletes the app, typing its id to confirm ----
    await signIn(page, 'admin', adminEmail, adminPassword);
    await page.goto(`${ctx.baseUrl}/apps/${appId}/settings`);
    await page.getByRole('button', { name: 'Delete app…' }).click();
    const deleteDialog = page.getByRole('dialog', { name: 'Delete app?' });
    const deleteButton = deleteDialog.getByRole('button', { name: 'Delete app and users' });
    assert.ok(await deleteButton.isDisabled(), 'disabled until the id is typed');
    await deleteDialog.getByLabel(/Type the app id/).fill(appId);
    await deleteButton.click();
    await page.getByText('No apps yet').waitFor();
    await signOut(page);
    assert.deepEqual(problems, []);
  } catch (error) {
    await shot(page, 'failure').catch(() => {});
    throw new Error(`${error instanceof Error ? error.stack : error}\n--- server log ---\n${readLog()}`);
  } finally {
    await context.close();
  }
});

test('the service serves the client: /sdk/v1.js for pages, /sdk/users-api-client.tgz for npm', async () => {
  assert.ok(ctx.browser);
  const sdkApp = 'sdk-site';
  await cli(['app', 'create', '--id', sdkApp, '--name', 'SDK site', '--origin', '*']);

  const module = await fetch(`${ctx.baseUrl}/sdk/v1.js`);
  assert.equal(module.status, 200);
  assert.match(module.headers.get('content-type') ?? '', /javascript/);
  assert.equal(module.headers.get('access-control-allow-origin'), '*');
  assert.equal((await fetch(`${ctx.baseUrl}/sdk/v0.js`)).status, 404, 'no HTML fallback under /sdk/');

  // In Node: the module as served, imported from a file.
  const moduleFile = join(ctx.workDir, 'v1.mjs');
  writeFileSync(moduleFile, await module.text());
  const sdk = await import(pathToFileURL(moduleFile).href);
  const users = sdk.createUsersClient({ baseUrl: ctx.baseUrl, appId: sdkApp });
  const stored = await users.submit({ email: 'node@example.com', data: {} });
  assert.match(stored.id, /^[0-9a-f-]{36}$/);

  // In a browser: a page on another origin (a second local server) imports the module as the
  // dashboard's "Connect your site" snippet does, and submits.
  const context = await ctx.browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const source = `<script type="module">
  import { createUsersClient } from ${JSON.stringify(`${ctx.baseUrl}/sdk/v1.js`)};
  const users = createUsersClient({ baseUrl: ${JSON.stringify(ctx.baseUrl)}, appId: ${JSON.stringify(sdkApp)} });
  users.submit({ email: 'browser@example.com', data: {} }).then(
    (result) => { document.body.dataset.result = JSON.stringify(result); },
    (error) => { document.body.dataset.result = 'error: ' + error.message; },
  );
</script>`;
  const pageProblems = /** @type {string[]} */ ([]);
  page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
  page.on('console', (message) => pageProblems.push(`console ${message.type()}: ${message.text()}`));
  page.on('requestfailed', (request) => pageProblems.push(`failed: ${request.url()} ${request.failure()?.errorText}`));
  const site = createHttpServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><title>site</title><body>${source}</body>`);
  });
  await new Promise((done) => site.listen(0, '127.0.0.1', () => done(undefined)));
  const siteAddress = site.address();
  assert.ok(siteAddress && typeof siteAddress === 'object');
  try {
    await page.goto(`http://127.0.0.1:${siteAddress.port}/signup.html`);
    await page.waitForFunction(() => document.body.dataset.result !== undefined).catch((error) => {
      throw new Error(`${error.message}\n${pageProblems.join('\n')}`);
    });
    const result = await page.evaluate(() => document.body.dataset.result ?? '');
    assert.ok(!result.startsWith('error'), `the page could not submit: ${result}`);
    assert.match(JSON.parse(result).id, /^[0-9a-f-]{36}$/);
  } finally {
    await context.close();
    await new Promise((done) => site.close(() => done(undefined)));
  }

  // npm: the tarball installs from its URL and submits.
  const consumer = join(ctx.workDir, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `${ctx.baseUrl}/sdk/users-api-client.tgz`], { cwd: consumer, timeout: 120_000 });
  const script = `import { createUsersClient } from '@users-api/client';
const users = createUsersClient({ baseUrl: ${JSON.stringify(ctx.baseUrl)}, appId: ${JSON.stringify(sdkApp)} });
console.log(JSON.stringify(await users.submit({ email: 'npm@example.com', data: {} })));`;
  writeFileSync(join(consumer, 'submit.mjs'), script);
  const { stdout } = await run('node', ['submit.mjs'], { cwd: consumer, timeout: 60_000 });
  assert.match(JSON.parse(stdout).id, /^[0-9a-f-]{36}$/);
  const installed = JSON.parse(readFileSync(join(consumer, 'node_modules/@users-api/client/package.json'), 'utf8'));
  assert.equal(installed.name, '@users-api/client');
  assert.ok(existsSync(join(consumer, 'node_modules/@users-api/client/dist/react/index.js')), 'the React entry point is in the package');
});

// ---- the accounts screens: API keys, auth settings, the e-mail log ----

const mailApp = 'mail-site';
const mailAppName = 'Mail site';
/** Scripts of a mail's HTML that the sandboxed frame refused to run. */
const blockedScripts = /** @type {string[]} */ ([]);

/** Fails the test on a page error or an unexpected console error. @param {import('playwright-core').Page} page */
function watchProblems(page) {
  const problems = /** @type {string[]} */ ([]);
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    const text = message.text();
    // Chromium's word that the sandbox did its job (a template's <script> in the preview).
    if (/^Blocked script execution in 'about:srcdoc' because the document's frame is sandboxed/.test(text)) blockedScripts.push(text);
    else if (message.type() === 'error' && !/status of (40[13]|422)/.test(text)) problems.push(`console: ${text}`);
  });
  return problems;
}

/** Creates a key in the dialog; answers the key shown once. @param {import('playwright-core').Page} page */
async function createKey(page, name, { role, permissions = [] }) {
  await page.getByRole('button', { name: 'Create key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create API key' });
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  if (role) await dialog.getByLabel('Role', { exact: true }).selectOption(role);
  for (const permission of permissions) await dialog.getByLabel(permission, { exact: true }).check();
  await dialog.getByRole('button', { name: 'Create key' }).click();
  const shown = page.getByTestId('one-time-key');
  await shown.waitFor();
  assert.match(await shown.textContent() ?? '', /you will not see it again/i);
  const key = await shown.locator('input').inputValue();
  assert.match(key, /^uak_[A-Za-z0-9_-]{20,}$/, `the key: ${key}`);
  await shown.getByRole('button', { name: 'Copy' }).waitFor();
  return key;
}

/** The status of a management route read with an API key. */
async function withKey(key, path) {
  return (await fetch(`${ctx.baseUrl}${path}`, { headers: { 'x-api-key': key } })).status;
}

/** Revokes the key named `name` through its confirmation. @param {import('playwright-core').Page} page */
async function revokeKey(page, name) {
  await page.getByRole('button', { name: `Revoke ${name}` }).click();
  await page.getByRole('dialog', { name: 'Revoke key?' }).getByRole('button', { name: 'Revoke key' }).click();
  await page.getByText(`The key “${name}” was revoked.`).waitFor();
  await page.locator('[data-testid=keys-table] tr', { hasText: name }).getByText('Revoked').waitFor();
}

/** A key's requests fail once it is revoked (every instance within a second). */
async function waitRefused(key, path) {
  const deadline = Date.now() + 5_000;
  let status = 0;
  while (Date.now() < deadline) {
    status = await withKey(key, path);
    if (status === 401) return;
    await new Promise((done) => setTimeout(done, 200));
  }
  assert.fail(`the revoked key still gets ${status}`);
}

/** Customises `kind`'s template subject, waits for the preview to show it; answers the preview's subject. @param {import('playwright-core').Page} page */
async function customiseSubject(page, kindLabel, subject, expected) {
  await page.getByRole('radio', { name: kindLabel }).check();
  const editor = page.getByTestId('template-editor');
  const before = await page.getByTestId('preview-subject').textContent();
  if (await editor.getByRole('button', { name: 'Customise' }).count()) await editor.getByRole('button', { name: 'Customise' }).click();
  await editor.getByLabel('Subject').fill(subject);
  await page.getByTestId('preview-subject').filter({ hasText: expected }).waitFor();
  const after = await page.getByTestId('preview-subject').textContent();
  assert.notEqual(after, before, 'the preview changed');
  return after;
}

/** Clicks Refresh until the log has a row matching `hasText` with `status`. @param {import('playwright-core').Page} page */
async function waitForMail(page, hasText, status) {
  const row = page.locator('[data-testid=mail-table] tbody tr', { hasText });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if ((await row.count()) > 0 && (await row.first().getAttribute('data-status')) === status) return row.first();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForTimeout(300);
  }
  assert.fail(`no ${status} message with "${hasText}" in the e-mail log: ${await page.getByTestId('mail-table').textContent()}`);
}

/** Sends a test mail from the auth settings screen. @param {import('playwright-core').Page} page */
async function sendTest(page, to) {
  await page.getByLabel('Send a test to').fill(to);
  await page.getByRole('button', { name: 'Send test' }).click();
  await page.getByRole('status').filter({ hasText: `Queued for ${to}` }).waitFor();
}

/**
 * Each app tab in `screens` on a 360 px phone: no sideways scrolling, no tab cut off; a screenshot
 * `<tab>-360`. @param {import('playwright-core').Page} phone @param {Array<[string, string]>} screens
 */
async function phoneScreens(phone, appId, screens) {
  for (const [tab, ready] of screens) {
    await phone.goto(`${ctx.baseUrl}/apps/${appId}/${tab}`);
    await phone.locator(ready).first().waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `${tab} scrolls sideways at 360 px by ${overflow}px`);
    const cut = await phone.locator('.tabs .tab').evaluateAll((links) => links.filter((link) => link.getBoundingClientRect().right > 360.5).map((link) => link.textContent));
    assert.deepEqual(cut, [], `tabs cut off at 360 px on ${tab}`);
    await shot(phone, `${tab}-360`);
  }
}

test('API keys, auth settings and the e-mail log, for the admin and for the app’s owner', async () => {
  assert.ok(ctx.browser);
  const created = JSON.parse(await cli(['app', 'create', '--id', mailApp, '--name', mailAppName, '--origin', '*']));
  const ownerPassword = created.password;
  assert.ok(ownerPassword, 'the CLI answers the app password');
  const context = await ctx.browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = watchProblems(page);
  const recordsPath = `/v1/apps/${mailApp}/users`;

  try {
    // ---- admin: API keys — created, shown once, used, revoked ----
    await signIn(page, 'admin', adminEmail, adminPassword);
    await page.goto(`${ctx.baseUrl}/apps/${mailApp}/users`);
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.waitForURL(`**/apps/${mailApp}/api-keys`);
    await page.getByText('No API keys yet.').waitFor();
    const adminKey = await createKey(page, 'CRM sync', { permissions: ['records:read'] });
    await shot(page, 'api-key-once');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    const keyRow = page.locator('[data-testid=keys-table] tbody tr', { hasText: 'CRM sync' });
    await keyRow.waitFor();
    const rowText = await keyRow.textContent() ?? '';
    assert.ok(rowText.includes(`${adminKey.slice(0, 12)}…`), `the prefix is listed: ${rowText}`);
    assert.match(rowText, /records:read/);
    assert.match(rowText, /Active/);
    assert.ok(!(await page.content()).includes(adminKey), 'the key is not on the page any more');
    assert.equal(await withKey(adminKey, recordsPath), 200, 'the key reads the records');
    await page.reload();
    await keyRow.getByText('Active').waitFor();
    assert.notEqual(await keyRow.locator('td').nth(3).textContent(), 'Never', 'its last use is shown');
    await shot(page, 'api-keys');
    await revokeKey(page, 'CRM sync');
    await waitRefused(adminKey, recordsPath);

    // ---- admin: auth settings ----
    await page.getByRole('link', { name: 'Auth settings' }).click();
    await page.getByLabel(/Any account/).check();
    // The service's lifetimes are the placeholders; the app takes shorter access tokens.
    const accessLifetime = page.getByLabel('Access token lifetime (minutes)');
    assert.equal(await accessLifetime.getAttribute('placeholder'), '15 (service)');
    await accessLifetime.fill('5');
    await page.getByRole('button', { name: 'Save account settings' }).click();
    await page.getByTestId('account-switches').getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const stored = await page.evaluate((id) => fetch(`/v1/apps/${id}`).then((r) => r.json()), mailApp);
    assert.equal(stored.organizationCreation, 'any_account');
    assert.equal(stored.requireVerifiedEmail, false);
    assert.equal(stored.accessTokenMinutes, 5);
    assert.equal(stored.sessionIdleDays, null);

    // the built-in template's preview, then a custom one: the preview follows the typing
    await page.getByTestId('preview-subject').filter({ hasText: `Confirm your email address for ${mailAppName}` }).waitFor();
    await customiseSubject(page, 'Email verification', 'Welcome to {{app_name}}, {{name}}', `Welcome to ${mailAppName},`);
    const editor = page.getByTestId('template-editor');
    await editor.getByLabel('HTML part').fill('<p id="custom-html">Hello {{name}}</p><p><a href="{{link}}">Confirm</a></p><script>document.body.dataset.ran = "yes"</script>');
    const frame = page.getByTestId('mail-preview').locator('iframe');
    assert.equal(await frame.getAttribute('sandbox'), '', 'the HTML is shown in a sandboxed frame');
    const framed = page.frameLocator('[data-testid=mail-preview] iframe');
    await framed.locator('#custom-html').waitFor();
    assert.equal(await page.locator('#custom-html').count(), 0, 'the HTML is never put into the page');
    assert.equal(await framed.locator('body').getAttribute('data-ran'), null, 'scripts do not run in the preview');
    for (let i = 0; i < 20 && blockedScripts.length === 0; i += 1) await page.waitForTimeout(100);
    assert.ok(blockedScripts.length > 0, 'Chromium says the sandbox blocked the script');
    // 422 next to its field: an unknown variable, then fixed
    await editor.getByLabel('Subject').fill('Welcome {{nobody}}');
    await editor.getByText('{{nobody}} is not a template variable').waitFor();
    await editor.getByLabel('Subject').fill('Welcome to {{app_name}}, {{name}}');
    await page.getByTestId('preview-subject').filter({ hasText: `Welcome to ${mailAppName},` }).waitFor();
    await page.getByLabel('Sender name').fill('Mail Site Team');
    await page.locator('[data-testid=mail-preview][aria-busy=false]').waitFor();
    await shot(page, 'auth-settings');
    await page.getByRole('button', { name: 'Save mail settings' }).click();
    await page.getByText('Mail settings saved.').waitFor();
    const mailSettings = await page.evaluate((id) => fetch(`/v1/apps/${id}/mail-settings`).then((r) => r.json()), mailApp);
    assert.equal(mailSettings.senderName, 'Mail Site Team');
    assert.equal(mailSettings.templates.verify_email.subject, 'Welcome to {{app_name}}, {{name}}');
    assert.deepEqual(Object.keys(mailSettings.templates), ['verify_email'], 'only the customised template is stored');

    // a test send, followed to the e-mail log, where the development mailer marks it sent
    await sendTest(page, 'me@example.com');
    await page.getByRole('link', { name: 'E-mail log' }).first().click();
    await page.waitForURL(`**/apps/${mailApp}/mail`);
    const testRow = await waitForMail(page, 'me@example.com', 'sent');
    assert.match(await testRow.textContent() ?? '', /\[test\] Welcome to Mail site/);

    // an account registers through the API: its verification e-mail is in the log, link and all
    const registered = await fetch(`${ctx.baseUrl}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-app-id': mailApp },
      body: JSON.stringify({ email: 'reg@example.com', password: 'correct horse battery staple', name: 'Reggie' }),
    });
    assert.equal(registered.status, 201, await registered.clone().text());
    const verifyRow = await waitForMail(page, 'reg@example.com', 'sent');
    assert.match(await verifyRow.textContent() ?? '', /Welcome to Mail site, Reggie/);
    assert.match(await verifyRow.textContent() ?? '', /Email verification/);
    await verifyRow.getByRole('button').click();
    const drawer = page.getByRole('dialog', { name: 'Welcome to Mail site, Reggie' });
    const link = drawer.getByTestId('mail-text').getByRole('link');
    const href = await link.getAttribute('href') ?? '';
    assert.match(href, /\/account\/verify-email\?token=[A-Za-z0-9_-]{20,}/);
    assert.match(await drawer.textContent() ?? '', /"Mail Site Team" </);
    await page.frameLocator('[data-testid=mail-detail] iframe').locator('#custom-html').waitFor();
    await shot(page, 'mail-message');
    // following the link verifies the address
    const verified = await fetch(`${ctx.baseUrl}/v1/auth/verify-email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: new URL(href).searchParams.get('token') }),
    });
    assert.equal(verified.status, 200, await verified.clone().text());
    assert.equal((await verified.json()).data.email_verified, true);
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });

    // the status filter, and paging to older messages
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No failed messages.').waitFor();
    await page.getByLabel('Status').selectOption('sent');
    await page.locator('[data-testid=mail-table] tbody tr').nth(1).waitFor();
    await page.getByLabel('Status').selectOption('');
    const queued = await page.evaluate(async (id) => {
      const statuses = [];
      for (let i = 0; i < 25; i += 1) {
        const response = await fetch(`/v1/apps/${id}/mail/test`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ kind: 'reset_password', to: `bulk${i}@example.com` }),
        });
        statuses.push(response.status);
      }
      return statuses;
    }, mailApp);
    assert.ok(queued.every((status) => status === 202), `test sends: ${queued}`);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('[data-testid=mail-table] tbody tr', { hasText: 'bulk24@example.com' }).waitFor();
    assert.equal(await page.locator('[data-testid=mail-table] tbody tr').count(), 25);
    await shot(page, 'mail-log');
    await page.getByRole('button', { name: 'Older →' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=mail-table] tbody tr').length === 2);
    const older = await page.locator('[data-testid=mail-table] tbody tr').allTextContents();
    assert.ok(older.some((row) => row.includes('me@example.com')) && older.some((row) => row.includes('reg@example.com')), `page 2: ${older}`);
    await page.getByRole('button', { name: '← Newer' }).click();
    await page.getByText('Page 1', { exact: true }).waitFor();

    await signOut(page);

    // ---- the app's owner, on its own app ----
    await signIn(page, 'owner', mailApp, ownerPassword);
    await page.waitForURL(`**/apps/${mailApp}/users`);
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.locator('[data-testid=keys-table] tbody tr', { hasText: 'CRM sync' }).getByText('Revoked').waitFor();
    const ownerKey = await createKey(page, 'Owner backend', { role: 'member' });
    await page.getByRole('button', { name: 'I have copied it' }).click();
    const ownerRow = page.locator('[data-testid=keys-table] tbody tr', { hasText: 'Owner backend' });
    await ownerRow.waitFor();
    assert.match(await ownerRow.textContent() ?? '', /role member/);
    assert.ok(!(await page.content()).includes(ownerKey), 'the key is not on the page any more');
    await revokeKey(page, 'Owner backend');

    await page.getByRole('link', { name: 'Auth settings' }).click();
    await page.getByLabel(/Require a verified email to log in/).check();
    // The owner sees the admin's lifetime and may shorten sessions.
    assert.equal(await page.getByLabel('Access token lifetime (minutes)').inputValue(), '5');
    await page.getByLabel('Session idle lifetime (days)').fill('7');
    await page.getByRole('button', { name: 'Save account settings' }).click();
    await page.getByTestId('account-switches').getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    // The admin's template is there; the owner customises another one.
    await page.getByTestId('preview-subject').filter({ hasText: `Welcome to ${mailAppName},` }).waitFor();
    await customiseSubject(page, 'Password reset', 'New {{app_name}} password', `New ${mailAppName} password`);
    await page.getByRole('button', { name: 'Save mail settings' }).click();
    await page.getByText('Mail settings saved.').waitFor();
    const ownerSettings = await page.evaluate((id) => fetch(`/v1/apps/${id}/mail-settings`).then((r) => r.json()), mailApp);
    assert.deepEqual(Object.keys(ownerSettings.templates).sort(), ['reset_password', 'verify_email']);
    const ownerStored = await page.evaluate((id) => fetch(`/v1/apps/${id}`).then((r) => r.json()), mailApp);
    assert.equal(ownerStored.requireVerifiedEmail, true);
    assert.deepEqual([ownerStored.accessTokenMinutes, ownerStored.sessionIdleDays], [5, 7]);
    // the default comes back when restored (saved or not, the preview shows it)
    await page.getByRole('button', { name: 'Restore the default' }).click();
    await page.getByTestId('preview-subject').filter({ hasText: `Reset your ${mailAppName} password` }).waitFor();
    await customiseSubject(page, 'Password reset', 'New {{app_name}} password', `New ${mailAppName} password`);
    await sendTest(page, 'owner@example.com');
    await page.getByRole('link', { name: 'E-mail log' }).first().click();
    const ownerTest = await waitForMail(page, 'owner@example.com', 'sent');
    assert.match(await ownerTest.textContent() ?? '', /\[test\] New Mail site password/);

    // ---- each new screen on a 360 px wide phone ----
    const phone = await context.newPage();
    const phoneProblems = watchProblems(phone);
    await phone.setViewportSize({ width: 360, height: 740 });
    await phoneScreens(phone, mailApp, [
      ['api-keys', '[data-testid=keys-table] tbody tr'],
      ['auth', '[data-testid=preview-subject]'],
      ['mail', '[data-testid=mail-table] tbody tr'],
    ]);
    // the message drawer and the key dialog fit too
    await phone.locator('[data-testid=mail-table] tbody tr button').first().click();
    await phone.getByTestId('mail-detail').waitFor();
    const drawerBox = await phone.getByRole('dialog').boundingBox();
    assert.ok(drawerBox && drawerBox.x >= 0 && drawerBox.x + drawerBox.width <= 360.5, `the drawer fits: ${JSON.stringify(drawerBox)}`);
    await shot(phone, 'mail-message-360');
    await phone.close();
    assert.deepEqual(phoneProblems, []);

    await signOut(page);
    assert.deepEqual(problems, []);
  } catch (error) {
    await shot(page, 'failure-accounts').catch(() => {});
    throw new Error(`${error instanceof Error ? error.stack : error}\n--- server log ---\n${readLog()}`);
  } finally {
    await context.close();
  }
});

// ---- the accounts screens: Accounts and Organizations ----

const orgApp = 'org-site';

/** Waits for the outbox to hold a message to `to`; answers the token of its link. @param {import('playwright-core').Page} page */
async function linkTokenSentTo(page, appId, to) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const token = await page.evaluate(async ([id, address]) => {
      const { messages } = await fetch(`/v1/apps/${id}/mail/messages?limit=100`).then((r) => r.json());
      const message = messages.find((m) => m.to === address);
      return message ? /token=([A-Za-z0-9_-]+)/.exec(message.text)?.[1] ?? null : null;
    }, [appId, to]);
    if (token) return token;
    await page.waitForTimeout(200);
  }
  assert.fail(`no e-mail to ${to} in the outbox`);
}

/** Creates an organization, invites someone into it, sees the pending invitation and revokes it. @param {import('playwright-core').Page} page */
async function organizationFlow(page, who, screenshots) {
  await page.goto(`${ctx.baseUrl}/apps/${orgApp}/users`);
  await page.getByRole('link', { name: 'Organizations' }).click();
  await page.waitForURL(`**/apps/${orgApp}/organizations`);
  const name = `Acme ${who}`;
  await page.getByRole('button', { name: 'Create organization' }).click();
  const create = page.getByRole('dialog', { name: 'Create organization' });
  await create.getByLabel('Name', { exact: true }).fill(name);
  await create.getByRole('button', { name: 'Create organization' }).click();
  await page.getByText(`The organization “${name}” was created.`).waitFor();
  // the same name again: its slug is taken, said next to the slug
  await page.getByRole('button', { name: 'Create organization' }).click();
  await create.getByLabel('Name', { exact: true }).fill(name);
  await create.getByRole('button', { name: 'Create organization' }).click();
  await create.getByText('Another organization of this app has this slug').waitFor();
  assert.equal(await create.getByLabel('Slug (optional)').getAttribute('aria-invalid'), 'true');
  await create.getByRole('button', { name: 'Cancel' }).click();

  await page.locator('[data-testid=organizations-table] tbody tr', { hasText: name }).getByRole('button', { name }).click();
  const drawer = page.getByRole('dialog', { name });
  await drawer.getByText('No pending invitations.').waitFor();
  const invitee = `invitee-${who}@example.com`;
  const form = drawer.getByTestId('invite-form');
  await form.getByLabel('Email', { exact: true }).fill(invitee);
  await form.getByLabel('Role', { exact: true }).selectOption('guest');
  await form.getByLabel('Message (optional)').fill(`Welcome from the ${who}`);
  await form.getByRole('button', { name: 'Send invitation' }).click();
  await form.getByText(`Invitation sent to ${invitee}.`).waitFor();
  const pending = drawer.locator('[data-testid=invites-table] tbody tr', { hasText: invitee });
  await pending.waitFor();
  assert.match(await pending.textContent() ?? '', /guest/);
  assert.ok(await linkTokenSentTo(page, orgApp, invitee), 'the invitation e-mail is queued');
  if (screenshots) await shot(page, 'organization');
  await drawer.getByRole('button', { name: `Revoke the invitation of ${invitee}` }).click();
  await page.getByRole('dialog', { name: 'Revoke invitation?' }).getByRole('button', { name: 'Revoke invitation' }).click();
  await drawer.getByText(`The invitation of ${invitee} was revoked.`).waitFor();
  await drawer.getByText('No pending invitations.').waitFor();
  await page.keyboard.press('Escape');
  await drawer.waitFor({ state: 'detached' });
  return name;
}

/** Creates an account with an invitation, finds it, opens it, ends its sessions, disables and erases it. @param {import('playwright-core').Page} page */
async function accountFlow(page, who, organization, screenshots) {
  await page.getByRole('link', { name: 'Accounts', exact: true }).click();
  await page.waitForURL(`**/apps/${orgApp}/accounts`);
  const email = `new-${who}@example.com`;
  await page.getByRole('button', { name: 'Create account' }).click();
  const create = page.getByRole('dialog', { name: 'Create account' });
  await create.getByLabel('Email', { exact: true }).fill(email);
  await create.getByLabel('Name (optional)').fill(`New ${who}`);
  await create.getByLabel('Organization (optional)').selectOption({ label: organization });
  await create.getByLabel('Role', { exact: true }).selectOption('admin');
  assert.ok(await create.getByLabel(/Send an invitation e-mail/).isChecked(), 'the invitation is sent by default');
  await create.getByRole('button', { name: 'Create account' }).click();
  await page.getByText(`${email} was created; the invitation e-mail is on its way.`).waitFor();
  // the same address again: 409 email_taken next to the email
  await page.getByRole('button', { name: 'Create account' }).click();
  await create.getByLabel('Email', { exact: true }).fill(email);
  await create.getByRole('button', { name: 'Create account' }).click();
  await create.getByText('An account with this email exists').waitFor();
  await create.getByRole('button', { name: 'Cancel' }).click();

  // the invitation is accepted (its link sets the password): the account has a session
  const token = await linkTokenSentTo(page, orgApp, email);
  const accepted = await fetch(`${ctx.baseUrl}/v1/invites/accept`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, password: 'correct horse battery staple' }),
  });
  assert.equal(accepted.status, 200, await accepted.clone().text());
  const refreshToken = (await accepted.json()).data.refresh_token;
  assert.ok(refreshToken, 'accepting logs in');

  // found by search, opened
  await page.getByLabel('Search by email or name').fill(`new-${who}`);
  await page.getByRole('button', { name: 'Search' }).click();
  const row = page.locator('[data-testid=accounts-table] tbody tr', { hasText: email });
  await row.waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=accounts-table] tbody tr').length === 1);
  assert.match(await row.textContent() ?? '', /Active/);
  assert.match(await row.textContent() ?? '', /Yes/, 'accepting verified the address');
  assert.equal(await row.locator('[data-label=Organizations]').textContent(), `${organization} (admin)`, 'the list shows the membership');
  if (screenshots) await shot(page, 'accounts');
  await row.getByRole('button', { name: email }).click();
  const drawer = page.getByRole('dialog', { name: email });
  await drawer.getByTestId('account-memberships').getByText(organization).waitFor();
  await drawer.locator('[data-testid=account-sessions] tbody tr').first().waitFor();
  if (screenshots) await shot(page, 'account');

  await drawer.getByRole('button', { name: 'End all sessions' }).click();
  await drawer.getByText('1 session ended.').waitFor();
  await drawer.getByTestId('no-sessions').waitFor();
  const refreshed = await fetch(`${ctx.baseUrl}/v1/auth/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-app-id': orgApp },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  assert.equal(refreshed.status, 401, 'its refresh token stopped working');

  await drawer.getByRole('button', { name: 'Disable' }).click();
  await drawer.getByText('Disabled: its sessions ended and its logins are refused.').waitFor();
  await drawer.getByRole('button', { name: 'Enable' }).waitFor();
  await row.getByText('Disabled').waitFor();
  const login = await fetch(`${ctx.baseUrl}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-app-id': orgApp },
    body: JSON.stringify({ email, password: 'correct horse battery staple' }),
  });
  assert.ok(login.status >= 400, `a disabled account cannot log in (${login.status})`);

  await drawer.getByRole('button', { name: 'Erase…' }).click();
  await page.getByRole('dialog', { name: 'Erase account?' }).getByRole('button', { name: 'Erase account' }).click();
  await page.getByText(`${email} was erased.`).waitFor();
  await page.getByText('No account matches.').waitFor();
  const gone = await page.evaluate(([id, address]) => fetch(`/v1/apps/${id}/accounts?q=${encodeURIComponent(address)}`).then((r) => r.json()), [orgApp, email]);
  assert.deepEqual(gone.data.users, [], 'the account is erased');
  await page.getByRole('button', { name: 'Clear' }).click();
}

test('accounts and organizations, for the admin and for the app’s owner', async () => {
  assert.ok(ctx.browser);
  const created = JSON.parse(await cli(['app', 'create', '--id', orgApp, '--name', 'Org site', '--origin', '*']));
  const context = await ctx.browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = watchProblems(page);
  // The 409s the test provokes are console errors of the browser's own: expected.
  const expected409 = (text) => /status of 409/.test(text);

  try {
    await signIn(page, 'admin', adminEmail, adminPassword);
    const adminOrganization = await organizationFlow(page, 'admin', true);
    await accountFlow(page, 'admin', adminOrganization, true);
    await signOut(page);

    await signIn(page, 'owner', orgApp, created.password);
    await page.waitForURL(`**/apps/${orgApp}/users`);
    const ownerOrganization = await organizationFlow(page, 'owner', false);
    // the owner sees the admin's organization too
    await page.locator('[data-testid=organizations-table] tbody tr', { hasText: adminOrganization }).waitFor();
    await accountFlow(page, 'owner', ownerOrganization, false);

    // ---- each new screen on a 360 px wide phone ----
    const phone = await context.newPage();
    const phoneProblems = watchProblems(phone);
    // an account to list and open: created through the API with an invitation into an organization
    const orgId = await page.evaluate((id) => fetch(`/v1/apps/${id}/organizations`).then((r) => r.json()).then((body) => body.data.organizations[0].id), orgApp);
    const made = await page.evaluate(([id, org]) => fetch(`/v1/apps/${id}/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'phone-account@example.com', name: 'Phone', organization_id: org, role: 'member', send_invite: true }),
    }).then((r) => r.status), [orgApp, orgId]);
    assert.equal(made, 201);
    await phone.setViewportSize({ width: 360, height: 740 });
    await phoneScreens(phone, orgApp, [
      ['accounts', '[data-testid=accounts-table] tbody tr'],
      ['organizations', '[data-testid=organizations-table] tbody tr'],
    ]);
    // an organization's drawer, with a pending invitation and a member, fits too
    await phone.locator('[data-testid=organizations-table] tbody tr button').first().click();
    const orgDrawer = phone.getByTestId('organization-detail');
    await orgDrawer.waitFor();
    await orgDrawer.getByTestId('invite-form').getByLabel('Email', { exact: true }).fill('phone@example.com');
    await orgDrawer.getByRole('button', { name: 'Send invitation' }).click();
    await orgDrawer.locator('[data-testid=invites-table] tbody tr', { hasText: 'phone@example.com' }).waitFor();
    const orgBox = await phone.getByRole('dialog').boundingBox();
    assert.ok(orgBox && orgBox.x >= 0 && orgBox.x + orgBox.width <= 360.5, `the organization drawer fits: ${JSON.stringify(orgBox)}`);
    assert.ok(await orgDrawer.evaluate((node) => node.scrollWidth <= node.clientWidth + 1), 'nothing in the organization drawer scrolls sideways');
    await shot(phone, 'organization-360');
    await phone.keyboard.press('Escape');
    await phone.goto(`${ctx.baseUrl}/apps/${orgApp}/accounts`);
    await phone.getByRole('button', { name: 'phone-account@example.com' }).click();
    const accountDrawer = phone.getByTestId('account-detail');
    await accountDrawer.getByTestId('account-memberships').waitFor();
    const accountBox = await phone.getByRole('dialog').boundingBox();
    assert.ok(accountBox && accountBox.x >= 0 && accountBox.x + accountBox.width <= 360.5, `the account drawer fits: ${JSON.stringify(accountBox)}`);
    assert.ok(await accountDrawer.evaluate((node) => node.scrollWidth <= node.clientWidth + 1), 'nothing in the account drawer scrolls sideways');
    await shot(phone, 'account-360');
    await phone.close();
    assert.deepEqual(phoneProblems, []);

    await signOut(page);
    assert.deepEqual(problems.filter((problem) => !expected409(problem)), []);
  } catch (error) {
    await shot(page, 'failure-organizations').catch(() => {});
    throw new Error(`${error instanceof Error ? error.stack : error}\n--- server log ---\n${readLog()}`);
  } finally {
    await context.close();
  }
});
