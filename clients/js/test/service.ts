/**
 * The real service for the accounts tests: `users-api serve` on a loopback port, on a fresh
 * SQLite file, with an app made by the CLI and a platform admin whose dashboard session
 * (the operator cookie) reads the e-mail log, creates API keys and changes app settings.
 *
 * Needs the binary: USERS_API_BIN (scripts/test-js.sh sets it), else target/debug/users-api
 * of the repository (`cargo build -p server`). A missing binary fails the tests, never skips them.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
// A string, not a URL: under jsdom `URL` is jsdom's, which fileURLToPath refuses.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const binary = process.env.USERS_API_BIN ?? join(repoRoot, 'target/debug/users-api');

const adminEmail = 'js-client-admin@example.com';
const adminPassword = 'a long js client admin passphrase';

export interface Service {
  baseUrl: string;
  appId: string;
  /** Stops the service and removes its files. */
  stop(): Promise<void>;
  /** `fetch` with the operator's cookie (and the Origin the CSRF rule wants). */
  operator(path: string, init?: { method?: string; body?: unknown }): Promise<Response>;
  /** The newest token of an e-mail of `kind` sent to `to`, read from the app's e-mail log. */
  mailToken(to: string, kind: 'verify_email' | 'reset_password' | 'invitation'): Promise<string>;
  /** A new API key of the app with the given role. */
  apiKey(role?: string): Promise<string>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const address = probe.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise((done) => probe.close(done));
  return port;
}

/** Starts the service with a fresh app `appId`; `settings` go to `PATCH /v1/apps/{appId}`. */
export async function startService(appId: string, settings: Record<string, unknown> = {}): Promise<Service> {
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: run \`cargo build -p server\` in ${repoRoot}, or set USERS_API_BIN`);
  }
  const workDir = mkdtempSync(join(tmpdir(), 'users-api-js-client-'));
  const logFile = join(workDir, 'server.log');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    USERS_API__STORAGE__BACKEND: 'sqlite',
    USERS_API__STORAGE__SQLITE__PATH: join(workDir, 'users.db'),
    USERS_API__RATE_LIMIT__ENABLED: 'false',
    USERS_API__ADMIN__BOOTSTRAP_EMAIL: adminEmail,
    USERS_API__ADMIN__BOOTSTRAP_PASSWORD: adminPassword,
    // The tokens' `iss`; the server client's default issuer is its baseUrl.
    USERS_API__SESSION__PUBLIC_ORIGIN: baseUrl,
    PORT: String(port),
  };
  delete env.USERS_API__MAIL__SMTP_URL;
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4000) : '(no log)');

  // The app is written by the CLI before the server starts (it caches apps).
  await run(binary, ['app', 'create', '--id', appId, '--name', `JS client ${appId}`, '--origin', 'http://127.0.0.1:9'], {
    cwd: repoRoot,
    env,
    timeout: 60_000,
  });
  const log = openSync(logFile, 'a');
  const server: ChildProcess = spawn(binary, ['serve'], { cwd: repoRoot, env, stdio: ['ignore', log, log] });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`users-api serve exited with ${server.exitCode}:\n${readLog()}`);
    try {
      if ((await fetch(`${baseUrl}/health`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`users-api did not come up:\n${readLog()}`);
    await new Promise((done) => setTimeout(done, 150));
  }

  const login = await fetch(`${baseUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseUrl },
    body: JSON.stringify({ email: adminEmail, password: adminPassword }),
  });
  if (login.status !== 200) throw new Error(`operator login: ${login.status} ${await login.text()}`);
  const cookie = login.headers
    .getSetCookie()
    .map((header) => header.split(';')[0])
    .join('; ');

  const operator: Service['operator'] = (path, init = {}) =>
    fetch(`${baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: { cookie, origin: baseUrl, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  if (Object.keys(settings).length > 0) {
    const patched = await operator(`/v1/apps/${appId}`, { method: 'PATCH', body: settings });
    if (patched.status !== 200) throw new Error(`PATCH /v1/apps/${appId}: ${patched.status} ${await patched.text()}`);
  }

  return {
    baseUrl,
    appId,
    operator,
    async mailToken(to, kind) {
      // The outbox sender delivers within moments; the development mailer keeps every message.
      const until = Date.now() + 10_000;
      for (;;) {
        const answer = await operator(`/v1/apps/${appId}/mail/messages?limit=500`);
        if (answer.status !== 200) throw new Error(`e-mail log: ${answer.status} ${await answer.text()}`);
        const { messages } = (await answer.json()) as { messages: { to: string; kind: string; text: string }[] };
        const message = messages.find((candidate) => candidate.to === to && candidate.kind === kind);
        const token = message === undefined ? undefined : /[?&]token=([A-Za-z0-9_-]+)/.exec(message.text)?.[1];
        if (token !== undefined) return token;
        if (Date.now() > until) throw new Error(`no ${kind} e-mail to ${to} in the log: ${JSON.stringify(messages.map((m) => [m.to, m.kind]))}`);
        await new Promise((done) => setTimeout(done, 100));
      }
    },
    async apiKey(role = 'tenant_admin') {
      const answer = await operator(`/v1/apps/${appId}/api-keys`, { method: 'POST', body: { name: `js ${role}`, role } });
      if (answer.status !== 201) throw new Error(`POST api-keys: ${answer.status} ${await answer.text()}`);
      return ((await answer.json()) as { key: string }).key;
    },
    async stop() {
      if (server.exitCode === null) {
        const exited = new Promise((done) => server.once('exit', done));
        server.kill('SIGTERM');
        await Promise.race([exited, new Promise((done) => setTimeout(done, 5_000))]);
        if (server.exitCode === null) server.kill('SIGKILL');
      }
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** A `fetch` that counts the requests by method and path (`POST /v1/auth/refresh`). */
export function countingFetch() {
  const counts = new Map<string, number>();
  const fetchImpl: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const key = `${init?.method ?? 'GET'} ${url.pathname}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return globalThis.fetch(input, init);
  };
  return { fetch: fetchImpl, count: (key: string) => counts.get(key) ?? 0, reset: () => counts.clear() };
}

/** A lock shared by "tabs" in one process, as the Web Locks API is across a browser's tabs. */
export function sharedLock() {
  const queues = new Map<string, Promise<unknown>>();
  return <T>(name: string, task: () => Promise<T>): Promise<T> => {
    const previous = queues.get(name) ?? Promise.resolve();
    const result = previous.then(task, task);
    queues.set(
      name,
      result.catch(() => undefined),
    );
    return result;
  };
}

let serial = 0;
/** An address no other test uses. */
export function uniqueEmail(name: string): string {
  serial += 1;
  return `${name}.${Date.now().toString(36)}${serial}@example.com`;
}
