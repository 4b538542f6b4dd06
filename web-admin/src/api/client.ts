// A thin fetch wrapper over the management API: same origin, cookie session, JSON bodies.
// Every state-changing request carries `content-type: application/json` (the server refuses
// anything else on cookie requests), and every error becomes an ApiError with words to show.
import type {
  Account,
  AccountChanges,
  AccountPage,
  AccountQuery,
  AccountSession,
  AdminLogin,
  ApiKey,
  App,
  AppChanges,
  ErrorBody,
  ErrorDetail,
  ExportFormat,
  CreatedApiKey,
  LoginResponse,
  Invite,
  MailKind,
  MailSettings,
  MailSettingsBody,
  MailTemplate,
  MemberPage,
  NewAccount,
  NewApiKey,
  NewApp,
  NewInvite,
  NewOrganization,
  Organization,
  OrganizationChanges,
  OrganizationPage,
  OutboxPage,
  OutboxQuery,
  OwnerLogin,
  RenderedMail,
  Schema,
  SchemaDraftBody,
  SchemaImpact,
  SchemaSaveResponse,
  SchemaVersionEntry,
  Session,
  SetupStatus,
  UserPage,
  UserQuery,
  UserRecord,
  WithPassword,
} from './types';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];
  readonly retryAfter: number | undefined;

  constructor(status: number, code: string, message: string, details: ErrorDetail[] = [], retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  /** The message of the detail about `field` (exact, or `data.<field>`), if any. */
  detailFor(field: string): string | undefined {
    return this.details.find((d) => d.field === field || d.field === `data.${field}`)?.message;
  }
}

const FALLBACK_MESSAGES: Record<number, string> = {
  400: 'The request was not understood.',
  401: 'You are not signed in, or your session has ended.',
  403: 'You are not allowed to do that.',
  404: 'Not found.',
  409: 'That already exists.',
  413: 'The request is too large.',
  415: 'The request was sent in a form the server does not accept.',
  422: 'Some values are not valid.',
  429: 'Too many attempts. Please wait a moment and try again.',
  503: 'The service is unavailable. Please try again shortly.',
};

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = (value as { error: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string';
}

export async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const retryHeader = response.headers.get('retry-after');
  const retryAfter = retryHeader !== null && /^\d+$/.test(retryHeader) ? Number(retryHeader) : undefined;
  if (isErrorBody(body)) {
    const { code, message, details } = body.error;
    let text = message;
    if (response.status === 429 && retryAfter !== undefined) {
      text = `${message} Try again in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`;
    }
    return new ApiError(response.status, String(code ?? ''), text, Array.isArray(details) ? details : [], retryAfter);
  }
  const fallback = FALLBACK_MESSAGES[response.status] ?? `The server answered ${response.status}.`;
  return new ApiError(response.status, '', fallback, [], retryAfter);
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called whenever an authenticated request gets 401 (the session ended). */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
  /** Do not announce a 401 as an ended session (login, session probe). */
  quiet401?: boolean;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'The service could not be reached. Check your connection and try again.');
  }
  if (!response.ok) {
    const error = await toApiError(response);
    if (response.status === 401 && !options.quiet401) unauthorizedListeners.forEach((listener) => listener());
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

const enc = encodeURIComponent;

/** The accounts API's routes answer `{success: true, data}`: the data. */
export async function accountsRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const body = await request<{ success?: boolean; data?: T } | undefined>(path, options);
  return body?.data as T;
}

/** `?limit=…&cursor=…` from the members that are set (snake_case, as the accounts API spells them). */
export function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Accepts `{sourceAppId}` or `{id}` (the record's name for it). */
export function normalizeApp(raw: unknown): App {
  const value = (raw ?? {}) as Record<string, unknown>;
  const id = (value.sourceAppId ?? value.id ?? value.appId) as string;
  return {
    ...(value as Partial<App>),
    sourceAppId: String(id ?? ''),
    name: String(value.name ?? ''),
    allowedOrigins: Array.isArray(value.allowedOrigins) ? (value.allowedOrigins as string[]) : [],
  };
}

export function normalizeApps(raw: unknown): App[] {
  const list = Array.isArray(raw) ? raw : ((raw as { apps?: unknown[] } | null)?.apps ?? []);
  return list.map(normalizeApp);
}

export function normalizeWithPassword(raw: unknown): WithPassword {
  const value = (raw ?? {}) as Record<string, unknown>;
  const password = String(value.password ?? '');
  const app = value.app !== undefined ? normalizeApp(value.app) : value.name !== undefined ? normalizeApp(value) : undefined;
  return app ? { password, app } : { password };
}

export function normalizeVersions(raw: unknown): SchemaVersionEntry[] {
  const list = Array.isArray(raw) ? raw : ((raw as { versions?: unknown[] } | null)?.versions ?? []);
  return (list as SchemaVersionEntry[]).slice().sort((a, b) => b.version - a.version);
}

export function usersQueryString(query: UserQuery): string {
  const params = new URLSearchParams();
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  if (query.cursor) params.set('cursor', query.cursor);
  if (query.q) params.set('q', query.q);
  if (query.createdAfter) params.set('createdAfter', query.createdAfter);
  if (query.createdBefore) params.set('createdBefore', query.createdBefore);
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function outboxQueryString(query: OutboxQuery): string {
  const params = new URLSearchParams();
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  if (query.cursor) params.set('cursor', query.cursor);
  if (query.status) params.set('status', query.status);
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function exportUrl(appId: string, format: ExportFormat): string {
  return `/v1/apps/${enc(appId)}/users/export?format=${format}`;
}

export const api = {
  login: (body: OwnerLogin | AdminLogin) =>
    request<LoginResponse>('/auth/login', { method: 'POST', body, quiet401: true }),
  session: () => request<Session>('/auth/session', { quiet401: true }),
  /** First run: `needsAdmin` is true only while the platform has no admin at all. */
  setup: (signal?: AbortSignal) => request<SetupStatus>('/auth/setup', { quiet401: true, signal }),
  logout: () => request<unknown>('/auth/logout', { method: 'POST', quiet401: true }),

  listApps: async (signal?: AbortSignal) => normalizeApps(await request<unknown>('/v1/apps', { signal })),
  createApp: async (body: NewApp) => normalizeWithPassword(await request<unknown>('/v1/apps', { method: 'POST', body })),
  getApp: async (appId: string, signal?: AbortSignal) =>
    normalizeApp(await request<unknown>(`/v1/apps/${enc(appId)}`, { signal })),
  updateApp: async (appId: string, body: AppChanges) =>
    normalizeApp(await request<unknown>(`/v1/apps/${enc(appId)}`, { method: 'PATCH', body })),
  deleteApp: (appId: string) => request<unknown>(`/v1/apps/${enc(appId)}`, { method: 'DELETE' }),
  rotatePassword: async (appId: string) =>
    normalizeWithPassword(await request<unknown>(`/v1/apps/${enc(appId)}/password`, { method: 'POST' })),

  getSchema: (appId: string, signal?: AbortSignal) => request<Schema>(`/v1/apps/${enc(appId)}/schema`, { signal }),
  dryRunSchema: async (appId: string, body: SchemaDraftBody): Promise<SchemaImpact> => {
    const response = await request<SchemaSaveResponse>(`/v1/apps/${enc(appId)}/schema?dryRun=true`, { method: 'PUT', body });
    return response.impact;
  },
  /** The saved schema (undefined if the server did not send it back). */
  saveSchema: async (appId: string, body: SchemaDraftBody): Promise<Schema | undefined> => {
    const response = await request<SchemaSaveResponse>(`/v1/apps/${enc(appId)}/schema`, { method: 'PUT', body });
    return response.schema;
  },
  schemaVersions: async (appId: string, signal?: AbortSignal) =>
    normalizeVersions(await request<unknown>(`/v1/apps/${enc(appId)}/schema/versions`, { signal })),

  listUsers: async (appId: string, query: UserQuery, signal?: AbortSignal): Promise<UserPage> => {
    const page = await request<Partial<UserPage>>(`/v1/apps/${enc(appId)}/users${usersQueryString(query)}`, { signal });
    return { users: page.users ?? [], nextCursor: page.nextCursor ?? null };
  },
  getUser: (appId: string, userId: string) => request<UserRecord>(`/v1/apps/${enc(appId)}/users/${enc(userId)}`),
  deleteUser: (appId: string, userId: string) =>
    request<unknown>(`/v1/apps/${enc(appId)}/users/${enc(userId)}`, { method: 'DELETE' }),

  listApiKeys: async (appId: string, signal?: AbortSignal): Promise<ApiKey[]> =>
    (await request<{ keys?: ApiKey[] }>(`/v1/apps/${enc(appId)}/api-keys`, { signal })).keys ?? [],
  /** The answer's `key` is shown this once. */
  createApiKey: (appId: string, body: NewApiKey) =>
    request<CreatedApiKey>(`/v1/apps/${enc(appId)}/api-keys`, { method: 'POST', body }),
  revokeApiKey: (appId: string, keyId: string) =>
    request<unknown>(`/v1/apps/${enc(appId)}/api-keys/${enc(keyId)}`, { method: 'DELETE' }),

  getMailSettings: (appId: string, signal?: AbortSignal) =>
    request<MailSettings>(`/v1/apps/${enc(appId)}/mail-settings`, { signal }),
  saveMailSettings: (appId: string, body: MailSettingsBody) =>
    request<MailSettings>(`/v1/apps/${enc(appId)}/mail-settings`, { method: 'PUT', body }),
  /** The template filled with sample values: `template` (unsaved) or the saved one. */
  previewMail: (appId: string, kind: MailKind, template?: MailTemplate, signal?: AbortSignal) =>
    request<RenderedMail>(`/v1/apps/${enc(appId)}/mail-settings/preview`, {
      method: 'POST',
      body: template ? { kind, template } : { kind },
      signal,
    }),
  sendTestMail: (appId: string, kind: MailKind, to: string, template?: MailTemplate) =>
    request<{ messageId: string }>(`/v1/apps/${enc(appId)}/mail/test`, {
      method: 'POST',
      body: template ? { kind, to, template } : { kind, to },
    }),
  listMail: async (appId: string, query: OutboxQuery, signal?: AbortSignal): Promise<OutboxPage> => {
    const page = await request<Partial<OutboxPage>>(`/v1/apps/${enc(appId)}/mail/messages${outboxQueryString(query)}`, { signal });
    return { messages: page.messages ?? [], nextCursor: page.nextCursor ?? null };
  },

  listAccounts: async (appId: string, query: AccountQuery, signal?: AbortSignal): Promise<AccountPage> => {
    const page = await accountsRequest<Partial<AccountPage>>(`/v1/apps/${enc(appId)}/accounts${queryString({ ...query })}`, { signal });
    return { users: page?.users ?? [], next_cursor: page?.next_cursor ?? null };
  },
  /** With `send_invite: true` the invitation e-mail sets the password. */
  createAccount: async (appId: string, body: NewAccount) =>
    (await accountsRequest<{ user: Account }>(`/v1/apps/${enc(appId)}/accounts`, { method: 'POST', body })).user,
  getAccount: (appId: string, id: string, signal?: AbortSignal) =>
    accountsRequest<Account>(`/v1/apps/${enc(appId)}/accounts/${enc(id)}`, { signal }),
  updateAccount: (appId: string, id: string, body: AccountChanges) =>
    accountsRequest<Account>(`/v1/apps/${enc(appId)}/accounts/${enc(id)}`, { method: 'PUT', body }),
  deleteAccount: (appId: string, id: string) =>
    accountsRequest<unknown>(`/v1/apps/${enc(appId)}/accounts/${enc(id)}`, { method: 'DELETE' }),
  listAccountSessions: async (appId: string, id: string, signal?: AbortSignal): Promise<AccountSession[]> =>
    (await accountsRequest<{ sessions?: AccountSession[] }>(`/v1/apps/${enc(appId)}/accounts/${enc(id)}/sessions`, { signal }))?.sessions ?? [],
  /** Ends every session of the account; answers how many. */
  endAccountSessions: async (appId: string, id: string): Promise<number> =>
    (await accountsRequest<{ ended?: number }>(`/v1/apps/${enc(appId)}/accounts/${enc(id)}/sessions`, { method: 'DELETE' }))?.ended ?? 0,

  listOrganizations: async (appId: string, query: { limit?: number; cursor?: string }, signal?: AbortSignal): Promise<OrganizationPage> => {
    const page = await accountsRequest<Partial<OrganizationPage>>(`/v1/apps/${enc(appId)}/organizations${queryString(query)}`, { signal });
    return { organizations: page?.organizations ?? [], next_cursor: page?.next_cursor ?? null };
  },
  createOrganization: (appId: string, body: NewOrganization) =>
    accountsRequest<Organization>(`/v1/apps/${enc(appId)}/organizations`, { method: 'POST', body }),
  updateOrganization: (appId: string, org: string, body: OrganizationChanges) =>
    accountsRequest<Organization>(`/v1/apps/${enc(appId)}/organizations/${enc(org)}`, { method: 'PATCH', body }),
  deleteOrganization: (appId: string, org: string) =>
    accountsRequest<unknown>(`/v1/apps/${enc(appId)}/organizations/${enc(org)}`, { method: 'DELETE' }),
  listMembers: async (appId: string, org: string, query: { limit?: number; cursor?: string; role?: string }, signal?: AbortSignal): Promise<MemberPage> => {
    const page = await accountsRequest<Partial<MemberPage>>(`/v1/apps/${enc(appId)}/organizations/${enc(org)}/users${queryString(query)}`, { signal });
    return { users: page?.users ?? [], next_cursor: page?.next_cursor ?? null };
  },
  removeMember: (appId: string, org: string, userId: string) =>
    accountsRequest<unknown>(`/v1/apps/${enc(appId)}/organizations/${enc(org)}/users/${enc(userId)}`, { method: 'DELETE' }),
  listInvites: async (appId: string, org: string, signal?: AbortSignal): Promise<Invite[]> =>
    (await accountsRequest<{ invites?: Invite[] }>(`/v1/apps/${enc(appId)}/organizations/${enc(org)}/invites`, { signal }))?.invites ?? [],
  /** Inviting a pending address again replaces its invitation (that is the resend). */
  invite: (appId: string, org: string, body: NewInvite) =>
    accountsRequest<Invite>(`/v1/apps/${enc(appId)}/organizations/${enc(org)}/invites`, { method: 'POST', body }),
  revokeInvite: (appId: string, org: string, inviteId: string) =>
    accountsRequest<unknown>(`/v1/apps/${enc(appId)}/organizations/${enc(org)}/invites/${enc(inviteId)}`, { method: 'DELETE' }),
};
