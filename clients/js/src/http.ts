import { errorForStatus, UsersApiError } from './errors.js';
import type { ErrorDetail } from './types.js';

/** What every client of this package is built from. */
export interface TransportOptions {
  /** Where the service runs, e.g. `https://users.example.com` (a trailing slash is fine). */
  baseUrl: string;
  /** Time allowed for one attempt, answer body included. Default 10 000 ms. */
  timeoutMs?: number | undefined;
  /** A `fetch` to use instead of the global one (tests, older runtimes). */
  fetch?: typeof fetch | undefined;
  /** Wait before the single retry after a network failure or a 503. Default 300 ms. */
  retryDelayMs?: number | undefined;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestSpec {
  method: Method;
  path: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined> | undefined;
  headers?: Record<string, string> | undefined;
  /**
   * One retry after a network failure or a 503: only where sending the request twice does no
   * harm (reads, upserts, PUTs, DELETEs). Never on other 4xx/5xx.
   */
  retry?: boolean | undefined;
  /** The accounts routes answer `{"success": true, "data": …}`: hand back `data`. */
  envelope?: boolean | undefined;
}

export type Transport = <T>(spec: RequestSpec) => Promise<T>;

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY_DELAY_MS = 300;

export function normalizeBaseUrl(baseUrl: unknown, caller: string): string {
  if (typeof baseUrl !== 'string' || baseUrl.trim() === '') {
    throw new TypeError(`${caller}: baseUrl is required`);
  }
  return baseUrl.trim().replace(/\/+$/, '');
}

export function createTransport(options: TransportOptions, caller: string): Transport {
  const baseUrl = normalizeBaseUrl(options.baseUrl, caller);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  // Called through a closure: a bare `window.fetch` reference throws "Illegal invocation".
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  return async function request<T>(spec: RequestSpec): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...spec.headers };
    const init: RequestInit = { method: spec.method, headers };
    if (spec.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(spec.body);
    }
    const url = `${baseUrl}${spec.path}${queryString(spec.query)}`;
    const envelope = spec.envelope === true;
    try {
      return await attempt<T>(fetchImpl, url, init, timeoutMs, envelope);
    } catch (error) {
      // The answer never arrived, or the store was briefly away: a second try can succeed.
      if (spec.retry === true && error instanceof UsersApiError && (error.code === 'network_error' || error.status === 503)) {
        await sleep(retryDelayMs);
        return attempt<T>(fetchImpl, url, init, timeoutMs, envelope);
      }
      throw error;
    }
  };
}

function queryString(query: RequestSpec['query']): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

async function attempt<T>(
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  envelope: boolean,
): Promise<T> {
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
    if (response.status === 204 || (text === '' && envelope)) return undefined as T;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw invalidResponse(response, 'The service answered with something other than JSON', cause);
    }
    if (!envelope) return body as T;
    if (!isRecord(body) || body.success !== true || !('data' in body)) {
      throw invalidResponse(response, 'The service answered without the {"success": true, "data": …} envelope');
    }
    return body.data as T;
  } finally {
    clearTimeout(timer);
  }
}

function invalidResponse(response: Response, message: string, cause?: unknown): UsersApiError {
  return new UsersApiError({ status: response.status, code: 'invalid_response', message, requestId: requestIdOf(response), cause });
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
    return errorForStatus({ ...common, code: 'http_error', message: `HTTP ${response.status}` });
  }
  return errorForStatus({ ...common, ...error });
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

export function isRecord(value: unknown): value is Record<string, unknown> {
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
