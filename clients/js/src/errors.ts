import type { ErrorDetail } from './types.js';

/** Error codes the service sends, plus the two this client adds (`network_error`, `timeout`). */
export type UsersApiErrorCode =
  | 'validation_failed'
  | 'bad_request'
  | 'invalid_json'
  | 'unknown_app'
  | 'origin_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'storage_unavailable'
  | 'network_error'
  | 'timeout'
  | 'invalid_response'
  | 'unauthorized'
  | 'invalid_token'
  | 'token_expired'
  | 'invalid_credentials'
  | 'login_required'
  | 'forbidden'
  | 'organization_access_denied'
  | 'tenant_mismatch'
  | 'email_not_verified'
  | 'invitation_for_another_account'
  | 'invalid_link'
  | 'email_taken'
  | 'already_member'
  | 'last_admin'
  | 'not_found'
  // Codes added by later versions of the service still come through, as plain strings.
  | (string & {});

export interface UsersApiErrorInit {
  status: number;
  code: UsersApiErrorCode;
  message: string;
  details?: ErrorDetail[];
  requestId?: string | undefined;
  retryAfterSeconds?: number | undefined;
  cause?: unknown;
}

/**
 * Every failure of a client call. `status` is the HTTP status, or 0 when no answer arrived
 * (`network_error`, `timeout`). A browser that blocks an answer by CORS — for instance because
 * the page's origin is not in the app's allowed origins — shows it to scripts as a network
 * failure, so such a refusal surfaces here as `network_error`.
 */
export class UsersApiError extends Error {
  override readonly name: string = 'UsersApiError';
  readonly status: number;
  readonly code: UsersApiErrorCode;
  /** Field problems of a `validation_failed` answer; empty otherwise. */
  readonly details: ErrorDetail[];
  /** The `x-request-id` the service answered with, to quote when reporting a problem. */
  readonly requestId: string | undefined;
  /** From `Retry-After` on a 429 or 503 answer. */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: UsersApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? [];
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/**
 * 401: no credential, or one the service refuses (`unauthorized`, `invalid_token`,
 * `token_expired`, `invalid_credentials`, `login_required`). An authenticated call of the
 * accounts client has already tried one refresh when this reaches you.
 */
export class UnauthorizedError extends UsersApiError {
  override readonly name: string = 'UnauthorizedError';
}

/**
 * 403: authenticated but not allowed. `code` says why: `forbidden` (the missing permission is
 * in `message` and `details[0]`), `organization_access_denied`, `tenant_mismatch`,
 * `email_not_verified`, `invitation_for_another_account`, `origin_not_allowed`.
 */
export class ForbiddenError extends UsersApiError {
  override readonly name: string = 'ForbiddenError';
}

/**
 * 422 `validation_failed`. `details` lists every problem; `fieldErrors` holds the first one
 * of each field, by the service's field name (`email`, `password`, `new_password`, `data.plan`).
 */
export class ValidationError extends UsersApiError {
  override readonly name: string = 'ValidationError';
  readonly fieldErrors: Record<string, { code: string; message: string }>;

  constructor(init: UsersApiErrorInit) {
    super(init);
    const fieldErrors: Record<string, { code: string; message: string }> = {};
    for (const detail of this.details) fieldErrors[detail.field] ??= { code: detail.code, message: detail.message };
    this.fieldErrors = fieldErrors;
  }
}

/** 429: wait `retryAfter` seconds (from `Retry-After`; `undefined` when the service sent none). */
export class RateLimitedError extends UsersApiError {
  override readonly name: string = 'RateLimitedError';

  get retryAfter(): number | undefined {
    return this.retryAfterSeconds;
  }
}

/** The error class for an answer's status: the typed ones above, else {@link UsersApiError}. */
export function errorForStatus(init: UsersApiErrorInit): UsersApiError {
  switch (init.status) {
    case 401:
      return new UnauthorizedError(init);
    case 403:
      return new ForbiddenError(init);
    case 422:
      return new ValidationError(init);
    case 429:
      return new RateLimitedError(init);
    default:
      return new UsersApiError(init);
  }
}

export function isUsersApiError(error: unknown): error is UsersApiError {
  return error instanceof UsersApiError;
}
