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
  userCount?: number;
  createdAt?: string;
  updatedAt?: string;
}

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
  { path: '/v1/apps/{appId}/schema', methods: ['GET', 'PUT'] },
  { path: '/v1/apps/{appId}/schema/versions', methods: ['GET'] },
  { path: '/v1/apps/{appId}/users', methods: ['GET'] },
  { path: '/v1/apps/{appId}/users/{userId}', methods: ['GET', 'DELETE'] },
  { path: '/v1/apps/{appId}/users/export', methods: ['GET'] },
  { path: '/v1/users', methods: ['POST'] },
  { path: '/v1/schema', methods: ['GET'] },
];
