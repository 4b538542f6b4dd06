// Browser test of the accounts example against the real service and a real SMTP server:
//   the service (USERS_API_BIN) runs on a fresh SQLite file with USERS_API__MAIL__SMTP_URL set
//   to the SMTP test server of scripts/with-smtp-test-server.sh, whose delivered messages are
//   read back from $USERS_API_TEST_SMTP_DIR; the app is made by the CLI, its link targets and
//   an API key through the operator API; the Node route (server/index.mjs) runs with that key;
//   the example is built with `vite build` and served by `vite preview` (which passes /api on
//   to the route); Debian's Chromium, driven by playwright-core, walks the whole way:
//   register → the e-mailed verification link → log in → profile → password → organization →
//   invitation accepted in a second browser context → the member list (through the route) →
//   remove the member.
//
// Run it through the SMTP test server, from the repository root:
//   bash scripts/with-smtp-test-server.sh bash -c 'cd examples/accounts-react && node --test e2e/'
// Needs: target/debug/users-api (or USERS_API_BIN), /usr/bin/chromium (or CHROMIUM_PATH) and
// the client built (clients/js/dist). scripts/test-js.sh does all that.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
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
// Screenshots go to a temporary folder, so that a test run leaves the checkout as it was;
// UPDATE_SCREENSHOTS=1 writes them over the committed ones (e2e/screenshots).
const screenshotDir = process.env.UPDATE_SCREENSHOTS === '1'
  ? join(here, 'screenshots')
  : mkdtempSync(join(tmpdir(), 'users-api-accounts-screenshots-'));

const appId = 'e2e-teams';
const adminEmail = 'e2e-teams-admin@example.com';
const adminPassword = 'a long e2e teams admin passphrase';
// The mailbox may hold other tests' messages: links are looked for by recipient and by this
// run's site origin, newest first.
const ada = { email: 'ada.lovelace@example.com', name: 'Ada Lovelace', password: 'analytical engine 1843' };
const adaNewPassword = 'difference engine 1822';
const grace = { email: 'grace.hopper@example.com', name: 'Grace Hopper', password: 'compiler pioneer 1952' };

const smtpMissing = !process.env.USERS_API_TEST_SMTP_URL || !process.env.USERS_API_TEST_SMTP_DIR;
const smtpHelp =
  'USERS_API_TEST_SMTP_URL and USERS_API_TEST_SMTP_DIR are not set: this test needs the SMTP test server; run it as\n' +
  "  bash scripts/with-smtp-test-server.sh bash -c 'cd examples/accounts-react && node --test e2e/'\nfrom the repository root";
if (smtpMissing) console.error(smtpHelp);

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
  apiUrl: '',
  siteOrigin: '',
  routeUrl: '',
  mailDir: '',
  serviceEnv: /** @type {NodeJS.ProcessEnv} */ ({}),
  /** @type {Array<{ name: string; child: import('node:child_process').ChildProcess; log: string }>} */
  processes: [],
  /** @type {import('playwright-core').Browser | undefined} */
  browser: undefined,
  /** Ada's browser, and Grace's: two contexts share no storage, as two people's browsers. */
  /** @type {import('playwright-core').Page | undefined} */
  adaPage: undefined,
  /** @type {string[]} */
  problems: [],
};

async function freePort() {
  const probe = createServer();
  await new Promise((done) => probe.listen(0, '127.0.0.1', () => done(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (probe.address());
  await new Promise((done) => probe.close(done));
  return port;
}

/** Runs the users-api CLI against the test's SQLite file; fails with its output if it fails. */
async function cli(...args) {
  try {
    const { stdout } = await run(binary, args, { cwd: repoRoot, env: ctx.serviceEnv, timeout: 60_000 });
    return stdout;
  } catch (error) {
    const e = /** @type {{ stdout?: string; stderr?: string; message: string }} */ (error);
    throw new Error(`users-api ${args.join(' ')} failed: ${e.message}\nstdout: ${e.stdout}\nstderr: ${e.stderr}`);
  }
}

function tail(file) {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-4000) : '(no log)';
}

/** Starts a long-running process with its output in a log file of the work folder. */
function start(name, command, args, options) {
  const log = join(ctx.workDir, `${name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(command, args, { ...options, stdio: ['ignore', fd, fd] });
  ctx.processes.push({ name, child, log });
  return { child, log };
}

/** Waits until `url` answers with `status`, while the process is still running. */
async function waitFor(url, status, { child, log }, what) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${tail(log)}`);
    try {
      if ((await fetch(url)).status === status) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`${what} did not answer ${url} with ${status} within 60 s:\n${tail(log)}`);
}

/**
 * The newest link to `path` in a message the SMTP test server delivered to `to`: one JSON file
 * a message in $USERS_API_TEST_SMTP_DIR (scripts/smtp_test_server.py), names in delivery order.
 */
async function mailedLink(to, path) {
  const pattern = new RegExp(`${ctx.siteOrigin.replace(/[.]/g, '\\.')}${path}\\?token=[A-Za-z0-9_-]+`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const messages = readdirSync(ctx.mailDir)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => JSON.parse(readFileSync(join(ctx.mailDir, name), 'utf8')))
      .filter((message) => message.rcpt_tos.some((rcpt) => rcpt.toLowerCase() === to));
    for (const message of messages.reverse()) {
      const link = pattern.exec(message.text ?? '')?.[0];
      if (link) {
        // The HTML part carries the same link.
        assert.ok(message.html?.includes(link.replaceAll('&', '&amp;')), `the HTML part lacks ${link}`);
        return { link, message };
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`no e-mail to ${to} with a link to ${path} within 30 s; delivered to them: ${JSON.stringify(messages.map((m) => m.subject))}\nservice log:\n${tail(join(ctx.workDir, 'service.log'))}`);
    }
    await new Promise((done) => setTimeout(done, 200));
  }
}

/** The operator (a platform admin's dashboard session) sets up what the CLI does not. */
async function operatorSession() {
  const login = await fetch(`${ctx.apiUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ctx.apiUrl },
    body: JSON.stringify({ email: adminEmail, password: adminPassword }),
  });
  assert.equal(login.status, 200, `operator login: ${await login.text()}`);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return async (method, path, body) => {
    const response = await fetch(`${ctx.apiUrl}${path}`, {
      method,
      headers: { cookie, origin: ctx.apiUrl, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text);
  };
}

before(async () => {
  assert.ok(!smtpMissing, smtpHelp);
  assert.ok(existsSync(binary), `${binary} is missing: run \`cargo build -p server\` in ${repoRoot} (or set USERS_API_BIN)`);
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  assert.ok(existsSync(join(repoRoot, 'clients/js/dist/server/index.js')), 'clients/js/dist is missing: run `npm ci` in clients/js');
  ctx.mailDir = process.env.USERS_API_TEST_SMTP_DIR;

  ctx.workDir = mkdtempSync(join(tmpdir(), 'users-api-accounts-e2e-'));
  const [apiPort, sitePort, routePort] = [await freePort(), await freePort(), await freePort()];
  ctx.apiUrl = `http://127.0.0.1:${apiPort}`;
  ctx.siteOrigin = `http://127.0.0.1:${sitePort}`;
  ctx.routeUrl = `http://127.0.0.1:${routePort}`;
  ctx.serviceEnv = {
    ...process.env,
    USERS_API__STORAGE__BACKEND: 'sqlite',
    USERS_API__STORAGE__SQLITE__PATH: join(ctx.workDir, 'users.db'),
    USERS_API__RATE_LIMIT__ENABLED: 'false',
    USERS_API__ADMIN__BOOTSTRAP_EMAIL: adminEmail,
    USERS_API__ADMIN__BOOTSTRAP_PASSWORD: adminPassword,
    // The tokens' `iss`, which the Node route checks against USERS_API_URL.
    USERS_API__SESSION__PUBLIC_ORIGIN: ctx.apiUrl,
    USERS_API__MAIL__SMTP_URL: process.env.USERS_API_TEST_SMTP_URL,
    USERS_API__MAIL__FROM: 'teams@example.com',
    USERS_API__MAIL__POLL_INTERVAL_MS: '200',
    PORT: String(apiPort),
  };

  // The app, written by the CLI before the server starts (it caches apps).
  await cli('app', 'create', '--id', appId, '--name', 'Teams', '--origin', ctx.siteOrigin);

  const dist = join(ctx.workDir, 'dist');
  const vite = join(exampleDir, 'node_modules/vite/bin/vite.js');
  await run(process.execPath, [vite, 'build', '--outDir', dist, '--emptyOutDir'], {
    cwd: exampleDir,
    env: { ...process.env, VITE_USERS_API_URL: ctx.apiUrl, VITE_USERS_API_APP_ID: appId },
    timeout: 120_000,
  });

  const service = start('service', binary, ['serve'], { cwd: repoRoot, env: ctx.serviceEnv });
  await waitFor(`${ctx.apiUrl}/health`, 200, service, 'users-api serve');

  // The e-mails' links lead to the example's pages; the route's key may only read accounts.
  const operator = await operatorSession();
  await operator('PUT', `/v1/apps/${appId}/mail-settings`, {
    senderName: 'Teams',
    verifyEmailUrl: `${ctx.siteOrigin}/verify`,
    resetPasswordUrl: `${ctx.siteOrigin}/reset`,
    acceptInviteUrl: `${ctx.siteOrigin}/join`,
  });
  const { key } = await operator('POST', `/v1/apps/${appId}/api-keys`, { name: 'members route', permissions: ['users:read'] });
  assert.match(key, /^uak_/);

  const route = start('route', process.execPath, [join(exampleDir, 'server/index.mjs')], {
    cwd: exampleDir,
    env: { ...process.env, USERS_API_URL: ctx.apiUrl, USERS_API_APP_ID: appId, USERS_API_KEY: key, PORT: String(routePort) },
  });
  await waitFor(`${ctx.routeUrl}/api/members`, 401, route, 'the Node route');

  const preview = start('preview', process.execPath, [vite, 'preview', '--outDir', dist, '--host', '127.0.0.1', '--port', String(sitePort), '--strictPort'], {
    cwd: exampleDir,
    env: { ...process.env, EXAMPLE_API_SERVER: ctx.routeUrl },
  });
  await waitFor(`${ctx.siteOrigin}/`, 200, preview, 'vite preview');

  ctx.browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  mkdirSync(screenshotDir, { recursive: true });
});

after(async () => {
  await ctx.browser?.close();
  for (const { child } of ctx.processes.reverse()) {
    if (child.exitCode !== null) continue;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((done) => setTimeout(done, 5_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  if (ctx.workDir && !process.env.KEEP_E2E_TMP) rmSync(ctx.workDir, { recursive: true, force: true });
  if (process.env.UPDATE_SCREENSHOTS !== '1' && !process.env.KEEP_E2E_TMP) {
    rmSync(screenshotDir, { recursive: true, force: true });
  }
});

/** A page in a browser context of its own (its own localStorage: another person's browser). */
async function newPerson() {
  assert.ok(ctx.browser);
  const context = await ctx.browser.newContext({ viewport: { width: 900, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => ctx.problems.push(`page error: ${error.message}`));
  return page;
}

/** The page of Ada's browser, made by the first test. */
function adaPage() {
  assert.ok(ctx.adaPage, 'an earlier step failed');
  return ctx.adaPage;
}

async function shot(page, name) {
  await page.screenshot({ path: join(screenshotDir, name), fullPage: true });
}

/**
 * Fills the labelled inputs of the form under `scope` and submits it with `button`. Labels
 * match by their beginning (the client's forms add a `*` to required ones).
 */
async function fillAndSubmit(scope, fields, button) {
  for (const [label, value] of Object.entries(fields)) await scope.getByLabel(new RegExp(`^${label.replace(/[()]/g, '\\$&')}`)).fill(value);
  await scope.getByRole('button', { name: button }).click();
}

describe('the accounts example, the whole walk', { timeout: 300_000 }, () => {
  test('Ada registers, and the verification e-mail reaches the SMTP server', async () => {
    const page = await newPerson();
    ctx.adaPage = page;
    await page.goto(ctx.siteOrigin);
    const register = page.locator('section', { has: page.getByRole('heading', { name: /Create an account/ }) });
    await fillAndSubmit(register, { Name: ada.name, Email: ada.email, Password: ada.password }, 'Create account');
    await page.getByRole('heading', { name: `Welcome, ${ada.name}` }).waitFor();
    await page.getByText(`Please confirm your address: we sent a link to ${ada.email}.`).waitFor();
    await page.getByText('Confirm your address first: then you can create an organization.').waitFor();
    await shot(page, '1-registered.png');

    const { message } = await mailedLink(ada.email, '/verify');
    assert.match(message.from, /Teams/);
    assert.match(message.from, /teams@example\.com/);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
  });

  test('the link from the e-mail confirms the address; Ada logs in', async () => {
    const page = adaPage();
    const { link } = await mailedLink(ada.email, '/verify');
    await page.goto(link);
    await page.getByText(`Thank you: ${ada.email} is confirmed.`).waitFor();
    await shot(page, '2-verified.png');

    await page.getByRole('link', { name: 'Continue to log in' }).click();
    const login = page.locator('section', { has: page.getByRole('heading', { name: 'Log in' }) });
    await fillAndSubmit(login, { Email: ada.email, Password: ada.password }, 'Log in');
    await page.getByRole('heading', { name: `Welcome, ${ada.name}` }).waitFor();
    assert.equal(await page.getByText('Please confirm your address').count(), 0);
  });

  test('Ada edits her profile, and it is saved', async () => {
    const page = adaPage();
    const profile = page.locator('section', { has: page.getByRole('heading', { name: 'Profile' }) });
    await fillAndSubmit(profile, { Name: 'Ada King', Bio: 'Mathematician; wrote the first program.' }, 'Save profile');
    await profile.getByText('Profile saved.').waitFor();
    await page.getByRole('heading', { name: 'Welcome, Ada King' }).waitFor();

    // Read back after a reload: from the service, not from the page's state.
    await page.reload();
    await page.getByRole('heading', { name: 'Welcome, Ada King' }).waitFor();
    assert.equal(await profile.getByLabel('Bio').inputValue(), 'Mathematician; wrote the first program.');
  });

  test('Ada changes her password: a wrong current one is refused, the new one logs in', async () => {
    const page = adaPage();
    const password = page.locator('section', { has: page.getByRole('heading', { name: 'Password' }) });
    await fillAndSubmit(password, { 'Current password': 'not my password', 'New password': adaNewPassword }, 'Change password');
    // 422 on current_password: the message goes next to that field.
    await password.getByText("is not the account's password").waitFor();
    assert.equal(await password.getByLabel('Current password').getAttribute('aria-invalid'), 'true');

    await fillAndSubmit(password, { 'Current password': ada.password, 'New password': adaNewPassword }, 'Change password');
    await password.getByText('Password changed. Your other sessions have ended.').waitFor();
    await shot(page, '3-profile-and-password.png');

    await page.getByRole('button', { name: 'Log out' }).click();
    const login = page.locator('section', { has: page.getByRole('heading', { name: 'Log in' }) });
    await fillAndSubmit(login, { Email: ada.email, Password: ada.password }, 'Log in');
    await login.getByText('The email or the password is not right.').waitFor();
    await fillAndSubmit(login, { Email: ada.email, Password: adaNewPassword }, 'Log in');
    await page.getByRole('heading', { name: 'Welcome, Ada King' }).waitFor();
  });

  test('Ada creates an organization and becomes its admin', async () => {
    const page = adaPage();
    await fillAndSubmit(page, { 'Organization name': 'Analytical Engines' }, 'Create organization');
    await page.getByRole('heading', { name: 'Analytical Engines' }).waitFor();
    await page.getByText('You are admin here.').waitFor();
    // The member list comes through the Node route, with the API key.
    const members = page.getByRole('table');
    await members.getByRole('cell', { name: ada.email }).waitFor();
    assert.equal(await members.locator('tbody tr').count(), 1);
  });

  test('Ada invites Grace, who accepts in her own browser with a password', async () => {
    const page = adaPage();
    await fillAndSubmit(page, { 'Invite by email': grace.email, 'Message (optional)': 'Come and compute with us!' }, 'Send invitation');
    await page.getByText(`Invitation sent to ${grace.email}.`).waitFor();
    await page.getByText(`${grace.email} (member)`).waitFor();

    const { link, message } = await mailedLink(grace.email, '/join');
    assert.match(message.subject, /Analytical Engines/);
    assert.match(message.text, /Come and compute with us!/);

    const gracePage = await newPerson();
    await gracePage.goto(link);
    await gracePage.getByText(/invites you to join Analytical Engines as member/).waitFor();
    await gracePage.getByText(`Your account will be ${grace.email}.`).waitFor();
    await shot(gracePage, '4-invitation.png');
    await fillAndSubmit(gracePage, { Name: grace.name, 'Choose a password': grace.password }, 'Accept and create my account');
    await gracePage.getByText('Welcome to Analytical Engines!').waitFor();
    // Signed in: the header names her.
    await gracePage.getByRole('banner').getByText(grace.name).waitFor();
    await gracePage.context().close();
  });

  test('back in Ada’s browser the member list shows Grace, and Ada removes her', async () => {
    const page = adaPage();
    const members = page.getByRole('table');
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.url() === `${ctx.siteOrigin}/api/members`),
      page.getByRole('button', { name: 'Refresh' }).click(),
    ]);
    assert.equal(answer.status(), 200);
    const body = await answer.json();
    assert.deepEqual(body.members.map((member) => [member.email, member.role]).sort(), [[ada.email, 'admin'], [grace.email, 'member']].sort());
    await members.getByRole('cell', { name: grace.email }).waitFor();
    assert.equal(await page.getByText('Pending invitations').count(), 0, 'the accepted invitation is no longer pending');
    await shot(page, '5-members.png');

    await page.getByRole('button', { name: `Remove ${grace.name}` }).click();
    await members.getByRole('cell', { name: grace.email }).waitFor({ state: 'detached' });
    assert.equal(await members.locator('tbody tr').count(), 1);
    await shot(page, '6-member-removed.png');
    assert.deepEqual(ctx.problems, []);
  });

  test('the Node route refuses a missing or forged token, and never shows its API key', async () => {
    const none = await fetch(`${ctx.siteOrigin}/api/members`);
    assert.equal(none.status, 401);
    assert.equal((await none.json()).error, 'unauthorized');

    const forged = await fetch(`${ctx.siteOrigin}/api/members`, { headers: { authorization: 'Bearer eyJhbGciOiJFZERTQSJ9.e30.AAAA' } });
    assert.equal(forged.status, 401);
    assert.equal((await forged.json()).error, 'invalid_token');

    for (const file of readdirSync(join(ctx.workDir, 'dist', 'assets'))) {
      assert.ok(!readFileSync(join(ctx.workDir, 'dist', 'assets', file), 'utf8').includes('uak_'), `${file} holds an API key`);
    }
  });
});
