// The management API's shapes as the dashboard uses them (DESIGN.md §2, "Dashboard sessions" and
// "Management"). test/openapi.test.ts checks API_ENDPOINTS against the service's /openapi.json.

export type Role = 'admin' | 'owner';

export interface Session {
  role: Role;
  sourceAppId?: string;
  email?: string;
}

/** GET /auth/setup. */
export interface SetupStatus {
  needsAdmin: boolean;
}

export interface LoginResponse {
  ok: boolean;
  role: Role;
  sourceAppId?: string;
}

export type OwnerLogin = { sourceAppId: string; password: string };
export type AdminLogin = { email: string; password: string };

export interface App {
  /** The admin-chosen sourceAppId (some responses call it `id`, see normalizeApp). */
  sourceAppId: string;
  name: string;
  allowedOrigins: string[];
  honeypotField?: string | null;
  thankYouUrl?: string | null;
  errorUrl?: string | null;
  /** Who may create organizations (accounts API). */
  organizationCreation?: OrganizationCreation;
  /** Login answers 403 `email_not_verified` until the address is verified. */
  requireVerifiedEmail?: boolean;
  /** The app's own lifetimes; `null`: the service's (`lifetimeLimits`). */
  accessTokenMinutes?: number | null;
  sessionIdleDays?: number | null;
  sessionAbsoluteDays?: number | null;
  /** The service's lifetimes: an app's default, and the most it may choose. */
  lifetimeLimits?: LifetimeLimits;
  userCount?: number;
  createdAt?: string;
  updatedAt?: string;
}

export interface LifetimeLimits {
  accessTokenMinutes: number;
  sessionIdleDays: number;
  sessionAbsoluteDays: number;
}

export type OrganizationCreation = 'verified_accounts' | 'any_account' | 'tenant_admins';
export const ORGANIZATION_CREATION: readonly OrganizationCreation[] = ['verified_accounts', 'any_account', 'tenant_admins'];

export interface NewApp {
  sourceAppId: string;
  name: string;
  allowedOrigins: string[];
  honeypotField?: string;
  thankYouUrl?: string;
  errorUrl?: string;
}

export interface AppChanges {
  name?: string;
  allowedOrigins?: string[];
  honeypotField?: string | null;
  thankYouUrl?: string | null;
  errorUrl?: string | null;
  organizationCreation?: OrganizationCreation;
  requireVerifiedEmail?: boolean;
  accessTokenMinutes?: number | null;
  sessionIdleDays?: number | null;
  sessionAbsoluteDays?: number | null;
}

/** 201 of POST /v1/apps and 200 of POST /v1/apps/{appId}/password: the password, shown once. */
export interface WithPassword {
  password: string;
  app?: App;
}

export type FieldKind = 'text' | 'number' | 'select' | 'date' | 'checkbox';
export const FIELD_KINDS: readonly FieldKind[] = ['text', 'number', 'select', 'date', 'checkbox'];

export interface SchemaField {
  key: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  minLength?: number;
  maxLength?: number;
  regex?: string;
  /** number: a number; date: YYYY-MM-DD */
  min?: number | string;
  max?: number | string;
  integer?: boolean;
  enum?: string[];
}

export interface Schema {
  version: number;
  rejectUnknown: boolean;
  fields: SchemaField[];
}

export type SchemaDraftBody = Omit<Schema, 'version'>;

export interface SchemaVersionEntry {
  version: number;
  createdAt?: string;
  schema?: Schema;
  fields?: SchemaField[];
  rejectUnknown?: boolean;
}

/** PUT /v1/apps/{appId}/schema?dryRun=true */
export interface SchemaImpact {
  checked: number;
  failing: number;
  examples: string[];
}

/** 200 of PUT /v1/apps/{appId}/schema (with or without ?dryRun=true). */
export interface SchemaSaveResponse {
  dryRun: boolean;
  /** The saved version; absent on a dry run. */
  schema?: Schema & { createdAt?: string };
  impact: SchemaImpact;
}

export interface UserRecord {
  id: string;
  email: string;
  data: Record<string, unknown>;
  schemaVersion: number;
  createdAt: string;
  updatedAt: string;
}

export interface UserPage {
  users: UserRecord[];
  nextCursor: string | null;
}

export interface UserQuery {
  limit?: number;
  cursor?: string;
  q?: string;
  createdAfter?: string;
  createdBefore?: string;
}

export type ExportFormat = 'csv' | 'ndjson';

export interface ErrorDetail {
  field: string;
  code: string;
  message: string;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

/** An API key as listed (never the key itself). */
export interface ApiKey {
  id: string;
  name: string;
  /** The key's first characters, to recognise it. */
  prefix: string;
  role: string | null;
  permissions: string[];
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  revokedAt: string | null;
}

/** POST /v1/apps/{appId}/api-keys: a role, permissions, or both. */
export interface NewApiKey {
  name: string;
  role?: string;
  permissions?: string[];
  /** RFC 3339; never expires when absent. */
  expiresAt?: string;
}

/** 201 of POST /v1/apps/{appId}/api-keys: the key, shown this once. */
export interface CreatedApiKey extends ApiKey {
  key: string;
}

/** Roles a key may take (their default permissions), as the service knows them. */
export const KEY_ROLES: ReadonlyArray<{ role: string; permissions: readonly string[] }> = [
  { role: 'tenant_admin', permissions: ['every built-in permission'] },
  { role: 'admin', permissions: ['users:read', 'users:write', 'organizations:read', 'organizations:write', 'invites:write', 'roles:write'] },
  { role: 'member', permissions: ['users:read', 'organizations:read'] },
  { role: 'guest', permissions: ['organizations:read'] },
];

/** The built-in permissions (a key may also hold the app's own `resource:action` ones). */
export const BUILT_IN_PERMISSIONS: readonly string[] = [
  'users:read',
  'users:write',
  'users:delete',
  'organizations:read',
  'organizations:write',
  'invites:write',
  'roles:write',
  'api_keys:write',
  'records:read',
  'records:delete',
  'schema:write',
];

export type MailKind = 'verify_email' | 'reset_password' | 'invitation';
export const MAIL_KINDS: readonly MailKind[] = ['verify_email', 'reset_password', 'invitation'];

export interface MailTemplate {
  subject: string;
  text: string;
  html: string;
}

export interface TemplateVariable {
  name: string;
  description: string;
}

/** GET and PUT /v1/apps/{appId}/mail-settings. */
export interface MailSettings {
  senderName: string | null;
  verifyEmailUrl: string | null;
  resetPasswordUrl: string | null;
  acceptInviteUrl: string | null;
  /** The app's own templates, by kind; the others are the defaults. */
  templates: Partial<Record<MailKind, MailTemplate>>;
  defaults: {
    templates: Record<MailKind, MailTemplate>;
    verifyEmailUrl: string;
    resetPasswordUrl: string;
    acceptInviteUrl: string;
  };
  variables: TemplateVariable[];
  /** The sender's address: the service's `mail.from`. */
  fromAddress: string;
}

/** PUT /v1/apps/{appId}/mail-settings: the whole settings; absent members take the defaults. */
export interface MailSettingsBody {
  senderName?: string;
  verifyEmailUrl?: string;
  resetPasswordUrl?: string;
  acceptInviteUrl?: string;
  templates: Partial<Record<MailKind, MailTemplate>>;
}

/** 200 of POST /v1/apps/{appId}/mail-settings/preview. */
export interface RenderedMail {
  from: string;
  subject: string;
  text: string;
  html: string;
}

export type MailStatus = 'pending' | 'sent' | 'failed';
export const MAIL_STATUSES: readonly MailStatus[] = ['pending', 'sent', 'failed'];

/** A message of the outbox (the e-mail log). */
export interface OutboxMessage {
  id: string;
  /** A MailKind, or `test`. */
  kind: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  status: MailStatus;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  nextAttemptAt: string | null;
  sentAt: string | null;
}

export interface OutboxPage {
  messages: OutboxMessage[];
  nextCursor: string | null;
}

export interface OutboxQuery {
  limit?: number;
  cursor?: string;
  status?: MailStatus;
}

// ---- The accounts API's operator routes (/v1/apps/{appId}/accounts, …/organizations): their
// answers come in the accounts envelope `{success, data}` (unwrapped by the client), snake_case.

/** An organization role; `tenant_admin` is app-wide, on the account itself. */
export type OrgRole = 'admin' | 'member' | 'guest';
export const ORG_ROLES: readonly OrgRole[] = ['admin', 'member', 'guest'];

/** A membership as an account shows it. */
export interface AccountMembership {
  id: string;
  name: string;
  slug: string;
  role: OrgRole;
  permissions: string[];
  joined_at: string;
}

export interface Account {
  id: string;
  email: string;
  name: string | null;
  email_verified: boolean;
  disabled: boolean;
  /** `tenant_admin` or null: the app-wide role. */
  role: string | null;
  /** App-wide extra permissions. */
  permissions: string[];
  has_password: boolean;
  /** Filled by GET …/accounts/{id}; the list leaves it empty. */
  organizations: AccountMembership[];
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

export interface AccountPage {
  users: Account[];
  next_cursor: string | null;
}

export interface AccountQuery {
  limit?: number;
  cursor?: string;
  q?: string;
  organization_id?: string;
  role?: string;
}

/** POST /v1/apps/{appId}/accounts. */
export interface NewAccount {
  email: string;
  name?: string;
  role?: string;
  organization_id?: string;
  permissions?: string[];
  send_invite?: boolean;
}

/** PUT /v1/apps/{appId}/accounts/{id}: `role`/`permissions` in `organization_id` when given. */
export interface AccountChanges {
  name?: string;
  role?: string;
  permissions?: string[];
  disabled?: boolean;
  organization_id?: string;
}

export interface AccountSession {
  id: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  user_agent?: string | null;
  ip_address?: string | null;
}

export interface Organization {
  id: string;
  name: string;
  slug: string;
  allowed_email_domains: string[];
  created_at: string;
  updated_at: string;
}

export interface OrganizationPage {
  organizations: Organization[];
  next_cursor: string | null;
}

export interface NewOrganization {
  name: string;
  slug?: string;
  allowed_email_domains?: string[];
}

export type OrganizationChanges = Partial<NewOrganization>;

/** GET …/organizations/{org}/users. */
export interface Member {
  id: string;
  email: string;
  name: string | null;
  email_verified: boolean;
  disabled: boolean;
  role: OrgRole;
  permissions: string[];
  joined_at: string;
}

export interface MemberPage {
  users: Member[];
  next_cursor: string | null;
}

export interface Invite {
  id: string;
  email: string;
  role: OrgRole;
  message: string | null;
  created_at: string;
  expires_at: string;
}

/** POST …/organizations/{org}/invites; the same address again replaces its invitation. */
export interface NewInvite {
  email: string;
  role: OrgRole;
  message?: string;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Every route the dashboard calls, as the OpenAPI document spells its paths. */
export const API_ENDPOINTS: ReadonlyArray<{ path: string; methods: readonly HttpMethod[] }> = [
  { path: '/auth/login', methods: ['POST'] },
  { path: '/auth/session', methods: ['GET'] },
  { path: '/auth/setup', methods: ['GET'] },
  { path: '/auth/logout', methods: ['POST'] },
  { path: '/v1/apps', methods: ['GET', 'POST'] },
  { path: '/v1/apps/{appId}', methods: ['GET', 'PATCH', 'DELETE'] },
  { path: '/v1/apps/{appId}/password', methods: ['POST'] },
  { path: '/v1/apps/{appId}/accounts', methods: ['GET', 'POST'] },
  { path: '/v1/apps/{appId}/accounts/{id}', methods: ['GET', 'PUT', 'DELETE'] },
  { path: '/v1/apps/{appId}/accounts/{id}/sessions', methods: ['GET', 'DELETE'] },
  { path: '/v1/apps/{appId}/organizations', methods: ['GET', 'POST'] },
  { path: '/v1/apps/{appId}/organizations/{org}', methods: ['GET', 'PATCH', 'DELETE'] },
  { path: '/v1/apps/{appId}/organizations/{org}/users', methods: ['GET'] },
  { path: '/v1/apps/{appId}/organizations/{org}/users/{user}', methods: ['DELETE'] },
  { path: '/v1/apps/{appId}/organizations/{org}/invites', methods: ['GET', 'POST'] },
  { path: '/v1/apps/{appId}/organizations/{org}/invites/{id}', methods: ['DELETE'] },
  { path: '/v1/apps/{appId}/api-keys', methods: ['GET', 'POST'] },
  { path: '/v1/apps/{appId}/api-keys/{keyId}', methods: ['DELETE'] },
  { path: '/v1/apps/{appId}/mail-settings', methods: ['GET', 'PUT'] },
  { path: '/v1/apps/{appId}/mail-settings/preview', methods: ['POST'] },
  { path: '/v1/apps/{appId}/mail/test', methods: ['POST'] },
  { path: '/v1/apps/{appId}/mail/messages', methods: ['GET'] },
  { path: '/v1/apps/{appId}/schema', methods: ['GET', 'PUT'] },
  { path: '/v1/apps/{appId}/schema/versions', methods: ['GET'] },
  { path: '/v1/apps/{appId}/users', methods: ['GET'] },
  { path: '/v1/apps/{appId}/users/{userId}', methods: ['GET', 'DELETE'] },
  { path: '/v1/apps/{appId}/users/export', methods: ['GET'] },
  { path: '/v1/users', methods: ['POST'] },
  { path: '/v1/schema', methods: ['GET'] },
];
