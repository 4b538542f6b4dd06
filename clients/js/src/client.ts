import { organizationsApi, type OrganizationsApi } from './accounts/api.js';
import { localStorageTokenStorage, memoryTokenStorage, type StoredTokens, type TokenStorage } from './accounts/storage.js';
import { TokenManager, webLocksRefreshLock, type RefreshLock } from './accounts/tokens.js';
import type {
  AcceptInviteInput,
  AuthResult,
  ChangePasswordInput,
  InvitationInfo,
  LoginInput,
  ProfileUpdate,
  RegisterInput,
  SessionInfo,
  User,
  VerifyEmailResult,
} from './accounts/types.js';
import { UnauthorizedError, type UsersApiError } from './errors.js';
import { createTransport, type RequestSpec } from './http.js';
import type { Schema, Submission, SubmitResult } from './types.js';

export interface UsersClientOptions {
  /** Where the service runs, e.g. `https://users.example.com` (a trailing slash is fine). */
  baseUrl: string;
  /** The app's `sourceAppId`, sent as `x-app-id`. */
  appId: string;
  /** Time allowed for one attempt, answer body included. Default 10 000 ms. */
  timeoutMs?: number;
  /** A `fetch` to use instead of the global one (tests, older runtimes). */
  fetch?: typeof fetch;
  /** Wait before the single retry after a network failure or a 503. Default 300 ms. */
  retryDelayMs?: number;
  /**
   * Where the logged-in account's tokens are kept: `'memory'` (the default: as long as the
   * page), `'localStorage'` (survives reloads, shared by the site's tabs, readable by any
   * script on the page; memory where there is none, as in server rendering), or a
   * {@link TokenStorage} of your own.
   */
  storage?: 'memory' | 'localStorage' | TokenStorage;
  /**
   * What keeps two tabs from refreshing at once. Default: the Web Locks API where the browser
   * has it; `null` for none.
   */
  refreshLock?: RefreshLock | null;
  /** Refresh the access token when it expires within this many milliseconds. Default 30 000. */
  refreshMarginMs?: number;
}

/** The account signed in on this client, as `auth` calls change it. */
export interface AuthApi {
  /** `POST /v1/auth/register`: creates the account, logs it in, and sends the verification e-mail. */
  register(input: RegisterInput): Promise<AuthResult>;
  /** `POST /v1/auth/login`. A wrong email or password is an {@link UnauthorizedError} `invalid_credentials`. */
  login(input: LoginInput): Promise<AuthResult>;
  /** `POST /v1/auth/logout` (`all`: every session of the account); the tokens are forgotten whatever the answer. */
  logout(options?: { all?: boolean }): Promise<void>;
  /**
   * `POST /v1/auth/refresh` now (the client also does it by itself ahead of expiry and after a
   * 401). `organization_id` switches the active organization. Resolves to `false` when logged out.
   */
  refresh(options?: { organization_id?: string }): Promise<boolean>;
  /** `POST /v1/auth/verify-email` with the `token` of the link. */
  verifyEmail(token: string): Promise<VerifyEmailResult>;
  /** `POST /v1/auth/verify-email/resend` (logged in). `sent: false`: verified already. */
  resendVerification(): Promise<{ sent: boolean; message: string }>;
  /** `POST /v1/auth/password/forgot`: always the same answer, whether or not the account exists. */
  forgotPassword(email: string): Promise<{ sent: boolean; message: string }>;
  /** `POST /v1/auth/password/reset`: sets the password and ends every session of the account. */
  resetPassword(input: { token: string; new_password: string }): Promise<void>;
  /** `GET /v1/invites/{token}`: what the invitation is, for an accept page. */
  invitation(token: string): Promise<InvitationInfo>;
  /**
   * `POST /v1/invites/accept`, and logged in as the result. A new person sets `password`; when
   * the client is logged in already, its own token is sent (an existing account accepts so).
   */
  acceptInvite(input: AcceptInviteInput): Promise<AuthResult>;
  /** Whether the client holds tokens (it may still find the session ended at the next call). */
  isLoggedIn(): Promise<boolean>;
  /** An access token to send to your own backend (refreshed first when needed), or `null`. */
  getAccessToken(): Promise<string | null>;
  /** Called with `true`/`false` whenever the client logs in or out, in this tab or another. */
  onChange(listener: (loggedIn: boolean) => void): () => void;
}

/** The logged-in account's own routes. */
export interface AccountUsersApi {
  /** `GET /v1/users/me`. */
  me(): Promise<User>;
  /** `PUT /v1/users/me`: `name`, `bio`, `avatar_url`, `data` (absent members stay, `null` clears). */
  update(target: 'me', changes: ProfileUpdate): Promise<User>;
  /** `PUT /v1/users/me/password`: every other session ends, this one goes on. */
  changePassword(input: ChangePasswordInput): Promise<void>;
  /** `GET /v1/users/me/sessions`. */
  sessions(): Promise<SessionInfo[]>;
  /** `DELETE /v1/users/me/sessions/{id}`: logs that device out. */
  endSession(sessionId: string): Promise<void>;
}

export interface UsersClient {
  /**
   * `POST /v1/users`: validates `data` against the app's schema and stores it, creating the
   * record or updating the one with this email. Throws {@link UsersApiError}.
   */
  submit(submission: Submission): Promise<SubmitResult>;
  /** `GET /v1/schema`: the app's current schema. Throws {@link UsersApiError}. */
  getSchema(): Promise<Schema>;
  auth: AuthApi;
  users: AccountUsersApi;
  organizations: OrganizationsApi;
}

const DEFAULT_REFRESH_MARGIN_MS = 30_000;

export function createUsersClient(options: UsersClientOptions): UsersClient {
  const transport = createTransport(options, 'createUsersClient');
  if (typeof options.appId !== 'string' || options.appId.trim() === '') {
    throw new TypeError('createUsersClient: appId is required');
  }
  const appId = options.appId.trim();
  const appHeader = { 'x-app-id': appId };
  const tokens = new TokenManager({
    transport,
    storage: tokenStorage(options.storage, appId),
    lock: options.refreshLock === undefined ? (webLocksRefreshLock() ?? null) : options.refreshLock,
    lockName: `users-api:refresh:${appId}`,
    refreshMarginMs: options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS,
  });

  /** An accounts route without a credential. */
  const open = <T>(spec: RequestSpec) => transport<T>({ ...spec, envelope: true, headers: { ...appHeader, ...spec.headers } });

  /** An accounts route as the logged-in account: one refresh and one retry after a 401. */
  async function authed<T>(spec: RequestSpec): Promise<T> {
    const token = await tokens.accessToken();
    if (token === null) throw notLoggedIn();
    const send = (accessToken: string) => open<T>({ ...spec, headers: { ...spec.headers, authorization: `Bearer ${accessToken}` } });
    try {
      return await send(token);
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || (error.code !== 'token_expired' && error.code !== 'invalid_token')) throw error;
      const fresh = await tokens.refresh({ stale: token });
      if (fresh === null) throw error;
      return send(fresh.accessToken);
    }
  }

  async function loggedIn(result: AuthResult): Promise<AuthResult> {
    await tokens.save(result);
    return result;
  }

  const auth: AuthApi = {
    register: async (input) => loggedIn(await open<AuthResult>({ method: 'POST', path: '/v1/auth/register', body: input })),
    login: async (input) => loggedIn(await open<AuthResult>({ method: 'POST', path: '/v1/auth/login', body: input })),
    logout: async ({ all } = {}) => {
      try {
        if ((await tokens.current()) !== null) {
          await authed({ method: 'POST', path: '/v1/auth/logout', body: all === undefined ? {} : { all } });
        }
      } catch (error) {
        // Already ended on the service: logged out is what was asked for.
        if (!(error instanceof UnauthorizedError)) throw error;
      } finally {
        await tokens.clear();
      }
    },
    refresh: async ({ organization_id } = {}) => (await tokens.refresh({ organizationId: organization_id })) !== null,
    verifyEmail: (token) => open({ method: 'POST', path: '/v1/auth/verify-email', body: { token } }),
    resendVerification: () => authed({ method: 'POST', path: '/v1/auth/verify-email/resend' }),
    forgotPassword: (email) => open({ method: 'POST', path: '/v1/auth/password/forgot', body: { email } }),
    resetPassword: async (input) => {
      await open({ method: 'POST', path: '/v1/auth/password/reset', body: input });
    },
    invitation: (token) => open({ method: 'GET', path: `/v1/invites/${encodeURIComponent(token)}`, retry: true }),
    acceptInvite: async (input) => {
      const spec: RequestSpec = { method: 'POST', path: '/v1/invites/accept', body: input };
      const current = await tokens.current();
      return loggedIn(await (current === null ? open<AuthResult>(spec) : authed<AuthResult>(spec)));
    },
    isLoggedIn: async () => (await tokens.current()) !== null,
    getAccessToken: () => tokens.accessToken(),
    onChange: (listener) => {
      let last: boolean | undefined;
      return tokens.subscribe((stored: StoredTokens | null) => {
        const now = stored !== null;
        if (now !== last) listener(now);
        last = now;
      });
    },
  };

  const users: AccountUsersApi = {
    me: () => authed({ method: 'GET', path: '/v1/users/me', retry: true }),
    update: (target, changes) => {
      if (target !== 'me') throw new TypeError("users.update: this client changes only 'me'; the server client changes others");
      return authed({ method: 'PUT', path: '/v1/users/me', body: changes, retry: true });
    },
    changePassword: async (input) => {
      await authed({ method: 'PUT', path: '/v1/users/me/password', body: input });
    },
    sessions: async () => (await authed<{ sessions: SessionInfo[] }>({ method: 'GET', path: '/v1/users/me/sessions', retry: true })).sessions,
    endSession: async (sessionId) => {
      await authed({ method: 'DELETE', path: `/v1/users/me/sessions/${encodeURIComponent(sessionId)}`, retry: true });
    },
  };

  return {
    submit: (submission) => transport<SubmitResult>({ method: 'POST', path: '/v1/users', body: submission, headers: appHeader, retry: true }),
    getSchema: () => transport<Schema>({ method: 'GET', path: '/v1/schema', headers: appHeader, retry: true }),
    auth,
    users,
    organizations: organizationsApi(authed),
  };
}

function tokenStorage(choice: UsersClientOptions['storage'], appId: string): TokenStorage {
  if (choice === undefined || choice === 'memory') return memoryTokenStorage();
  if (choice === 'localStorage') {
    // Rendered on a server (SSR) there is no localStorage: keep the tokens in memory there.
    if (typeof globalThis.localStorage === 'undefined') return memoryTokenStorage();
    return localStorageTokenStorage({ key: `users-api:${appId}:tokens` });
  }
  return choice;
}

function notLoggedIn(): UnauthorizedError {
  return new UnauthorizedError({ status: 401, code: 'unauthorized', message: 'Not logged in: call auth.login or auth.register first' });
}

