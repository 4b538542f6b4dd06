import { UsersApiError } from './errors.js';
import type { ErrorDetail, Schema, Submission, SubmitResult } from './types.js';

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
}

export interface UsersClient {
  /**
   * `POST /v1/users`: validates `data` against the app's schema and stores it, creating the
   * record or updating the one with this email. Throws {@link UsersApiError}.
   */
  submit(submission: Submission): Promise<SubmitResult>;
  /** `GET /v1/schema`: the app's current schema. Throws {@link UsersApiError}. */
  getSchema(): Promise<Schema>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY_DELAY_MS = 300;

export function createUsersClient(options: UsersClientOptions): UsersClient {
  if (typeof options.baseUrl !== 'string' || options.baseUrl.trim() === '') {
    throw new TypeError('createUsersClient: baseUrl is required');
  }
  if (typeof options.appId !== 'string' || options.appId.trim() === '') {
    throw new TypeError('createUsersClient: appId is required');
  }
  const baseUrl = options.baseUrl.trim().replace(/\/+$/, '');
  const appId = options.appId.trim();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  // Called through a closure: a bare `window.fetch` reference throws "Illegal invocation".
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', 'x-app-id': appId };
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const url = `${baseUrl}${path}`;
    try {
      return await attempt<T>(fetchImpl, url, init, timeoutMs);
    } catch (error) {
      // One retry, only where a second try can succeed and cannot do harm: the answer never
      // arrived, or the store was briefly away. A submission is an upsert by email, so sending
      // it twice stores one record. Never on 4xx: the same request would fail the same way.
      if (error instanceof UsersApiError && (error.code === 'network_error' || error.status === 503)) {
        await sleep(retryDelayMs);
        return attempt<T>(fetchImpl, url, init, timeoutMs);
      }
      throw error;
    }
  }

  return {
    submit: (submission) => request<SubmitResult>('POST', '/v1/users', submission),
    getSchema: () => request<Schema>('GET', '/v1/schema'),
  };
}

async function attempt<T>(fetchImpl: typeof fetch, url: string, init: RequestInit, timeoutMs: number): Promise<T> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    let response: Response;
    try {
      response = await fetchImpl(url, { ...init, signal: controller.signal });
    } catch (cause) {
      throw timedOut ? timeoutError(timeoutMs, cause) : networkError(cause);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (cause) {
      throw timedOut ? timeoutError(timeoutMs, cause) : networkError(cause);
    }
    if (!response.ok) {
      throw errorFromResponse(response, text);
    }
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new UsersApiError({
        status: response.status,
        code: 'invalid_response',
        message: 'The service answered with something other than JSON',
        requestId: requestIdOf(response),
        cause,
      });
    }
  } finally {
    clearTimeout(timer);
  }
}

function errorFromResponse(response: Response, text: string): UsersApiError {
  const common = {
    status: response.status,
    requestId: requestIdOf(response),
    retryAfterSeconds: retryAfterOf(response),
  };
  const error = parseErrorBody(text);
  if (error === undefined) {
    // Not our error shape: a proxy or load balancer answered.
    return new UsersApiError({ ...common, code: 'http_error', message: `HTTP ${response.status}` });
  }
  return new UsersApiError({ ...common, ...error });
}

function parseErrorBody(text: string): { code: string; message: string; details: ErrorDetail[] } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(body) || !isRecord(body.error)) return undefined;
  const { code, message, details } = body.error;
  if (typeof code !== 'string' || typeof message !== 'string') return undefined;
  const validDetails = Array.isArray(details)
    ? details.filter(
        (detail): detail is ErrorDetail =>
          isRecord(detail) &&
          typeof detail.field === 'string' &&
          typeof detail.code === 'string' &&
          typeof detail.message === 'string',
      )
    : [];
  return { code, message, details: validDetails };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requestIdOf(response: Response): string | undefined {
  return response.headers.get('x-request-id') ?? undefined;
}

function retryAfterOf(response: Response): number | undefined {
  const header = response.headers.get('retry-after');
  if (header === null) return undefined;
  const seconds = Number(header.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function networkError(cause: unknown): UsersApiError {
  return new UsersApiError({
    status: 0,
    code: 'network_error',
    message: 'The service could not be reached (network failure, or the browser refused the answer by CORS)',
    cause,
  });
}

function timeoutError(timeoutMs: number, cause: unknown): UsersApiError {
  return new UsersApiError({
    status: 0,
    code: 'timeout',
    message: `The service did not answer within ${timeoutMs} ms`,
    cause,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
