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
  override readonly name = 'UsersApiError';
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

export function isUsersApiError(error: unknown): error is UsersApiError {
  return error instanceof UsersApiError;
}
