/**
 * `@users-api/client/server`: for an app's own backend (Node 20+, or any runtime with fetch and
 * WebCrypto). Calls the accounts API with an API key, and verifies users' access tokens
 * against the service's JWKS. Never ship an API key to a browser.
 */
import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';

import { organizationsApi, segment, type OrganizationsApi } from '../accounts/api.js';
import type { CreateUserInput, ListUsersOptions, ManagedUser, Role, UpdateUserInput, UserList } from '../accounts/types.js';
import { UnauthorizedError, UsersApiError } from '../errors.js';
import { createTransport, normalizeBaseUrl, type RequestSpec } from '../http.js';

export interface ServerClientOptions {
  /** Where the service runs, e.g. `https://users.example.com`. */
  baseUrl: string;
  /** The app's `sourceAppId`: sent as `x-app-id`, and the `aud` every access token must have. */
  appId: string;
  /** An API key of the app (`uak_…`), from the dashboard. Not needed for `verifyAccessToken` alone. */
  apiKey?: string | undefined;
  /**
   * The `iss` access tokens must carry: the service's public URL (`tokens.issuer`, by default
   * `session.public_origin`). Default: `baseUrl`.
   */
  issuer?: string | undefined;
  /** Where the public keys are. Default `${baseUrl}/.well-known/jwks.json`. */
  jwksUrl?: string | undefined;
  /** How long fetched keys are kept. Default 10 minutes; an unknown `kid` fetches again sooner (at most every 30 s). */
  jwksCacheMaxAgeMs?: number | undefined;
  /** Leeway for `exp` and `nbf`, in seconds. Default 30, as the service's own. */
  clockToleranceSeconds?: number | undefined;
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
  retryDelayMs?: number | undefined;
}

/** The claims of a verified access token (docs/accounts.md, "Verifying tokens in your backend"). */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  /** The app id. */
  aud: string | string[];
  /** The user id. */
  sub: string;
  /** The session. */
  sid: string;
  email: string;
  email_verified: boolean;
  /** The active organization, when the account has one. */
  org?: string;
  role?: Role;
  /** Effective permissions in `org` (built-in and the app's own). */
  permissions: string[];
  iat: number;
  exp: number;
}

export interface ServerUsersApi {
  /** `GET /v1/users/{id}`. */
  get(userId: string): Promise<ManagedUser>;
  /** `GET /v1/users`: keyset paged, `q`, `organization_id`, `role`. */
  list(options?: ListUsersOptions): Promise<UserList>;
  /** `POST /v1/users`: an account without a password; `send_invite` e-mails the link that sets one. */
  create(input: CreateUserInput): Promise<ManagedUser>;
  /** `PUT /v1/users/{id}`: `name`, `disabled` (ends its sessions), `role`, `permissions`. */
  update(userId: string, changes: UpdateUserInput): Promise<ManagedUser>;
  /** `DELETE /v1/users/{id}`: erases it with its sessions and memberships. */
  delete(userId: string): Promise<void>;
}

export interface ServerClient {
  users: ServerUsersApi;
  organizations: OrganizationsApi;
  /**
   * Verifies an access token: EdDSA only, signed by a key of the service's JWKS (fetched once
   * and cached), `iss` the configured issuer, `aud` this app, `exp`/`nbf` with 30 s leeway.
   * Throws {@link UnauthorizedError} (`token_expired`, or `invalid_token`) otherwise, and a
   * {@link UsersApiError} (`jwks_unavailable`, `network_error`, `timeout`) when the keys cannot
   * be fetched: then it is not the token's fault, answer 503 rather than 401. A token
   * verified this way may belong to a session ended less than its lifetime ago: for payments
   * or admin actions, ask the service (`GET /v1/users/me` with the token) as well.
   */
  verifyAccessToken(token: string): Promise<AccessTokenClaims>;
}

export function createServerClient(options: ServerClientOptions): ServerClient {
  const baseUrl = normalizeBaseUrl(options.baseUrl, 'createServerClient');
  if (typeof options.appId !== 'string' || options.appId.trim() === '') {
    throw new TypeError('createServerClient: appId is required');
  }
  const appId = options.appId.trim();
  const transport = createTransport({ ...options, baseUrl }, 'createServerClient');

  const call = <T>(spec: RequestSpec): Promise<T> => {
    const apiKey = options.apiKey;
    if (apiKey === undefined || apiKey === '') {
      throw new TypeError('createServerClient: apiKey is required to call the API');
    }
    return transport<T>({ ...spec, envelope: true, headers: { ...spec.headers, 'x-app-id': appId, 'x-api-key': apiKey } });
  };

  const user = (id: string) => `/v1/users/${segment(id, 'userId')}`;
  const users: ServerUsersApi = {
    get: (id) => call({ method: 'GET', path: user(id), retry: true }),
    list: (query = {}) =>
      call({
        method: 'GET',
        path: '/v1/users',
        query: { limit: query.limit, cursor: query.cursor, q: query.q, organization_id: query.organization_id, role: query.role },
        retry: true,
      }),
    create: async (input) => (await call<{ user: ManagedUser }>({ method: 'POST', path: '/v1/users', body: input })).user,
    update: (id, changes) => call({ method: 'PUT', path: user(id), body: changes, retry: true }),
    delete: async (id) => {
      await call({ method: 'DELETE', path: user(id), retry: true });
    },
  };

  const jwksOptions: Parameters<typeof createRemoteJWKSet>[1] = {};
  if (options.jwksCacheMaxAgeMs !== undefined) jwksOptions.cacheMaxAge = options.jwksCacheMaxAgeMs;
  if (options.timeoutMs !== undefined) jwksOptions.timeoutDuration = options.timeoutMs;
  if (options.fetch !== undefined) {
    const fetchImpl = options.fetch;
    jwksOptions[customFetch] = (url, init) => fetchImpl(url, init);
  }
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl ?? `${baseUrl}/.well-known/jwks.json`), jwksOptions);
  const issuer = options.issuer === undefined ? baseUrl : options.issuer.replace(/\/+$/, '');
  const clockTolerance = options.clockToleranceSeconds ?? 30;

  return {
    users,
    organizations: organizationsApi(call),
    verifyAccessToken: async (token) => {
      if (typeof token !== 'string' || token === '') {
        throw new UnauthorizedError({ status: 401, code: 'unauthorized', message: 'No access token' });
      }
      try {
        const { payload } = await jwtVerify(token, jwks, { algorithms: ['EdDSA'], issuer, audience: appId, clockTolerance });
        if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') {
          throw new UnauthorizedError({ status: 401, code: 'invalid_token', message: 'The token has no sub or sid claim' });
        }
        return payload as AccessTokenClaims;
      } catch (error) {
        if (error instanceof UnauthorizedError) throw error;
        if (error instanceof joseErrors.JWTExpired) {
          throw new UnauthorizedError({ status: 401, code: 'token_expired', message: 'The access token has expired', cause: error });
        }
        // The keys could not be had: not the token's fault, so not a 401 either.
        if (error instanceof joseErrors.JWKSTimeout) {
          throw new UsersApiError({ status: 0, code: 'timeout', message: 'The JWKS did not arrive in time', cause: error });
        }
        if (error instanceof joseErrors.JWKSInvalid || (error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC')) {
          throw new UsersApiError({ status: 0, code: 'jwks_unavailable', message: `The service's JWKS could not be read: ${error.message}`, cause: error });
        }
        if (error instanceof joseErrors.JOSEError) {
          throw new UnauthorizedError({ status: 401, code: 'invalid_token', message: `The access token is not valid: ${error.message}`, cause: error });
        }
        throw new UsersApiError({ status: 0, code: 'network_error', message: "The service's JWKS could not be fetched", cause: error });
      }
    },
  };
}

export { UnauthorizedError, ForbiddenError, RateLimitedError, UsersApiError, ValidationError } from '../errors.js';
export type { OrganizationsApi } from '../accounts/api.js';
export type * from '../accounts/types.js';
