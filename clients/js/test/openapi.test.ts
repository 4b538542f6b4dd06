import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import {
  SUBMIT_RESULT_KEYS,
  type AuthResult,
  type ErrorDetail,
  type Field,
  type FieldKind,
  type Invitation,
  type InvitationInfo,
  type ManagedUser,
  type Membership,
  type Organization,
  type OrganizationMember,
  type RefreshResult,
  type SessionInfo,
  type Submission,
  type User,
  type VerifyEmailResult,
} from '../src/index.js';

type KeysOfUnion<T> = T extends unknown ? keyof T : never;
type Complete<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : false;

// Runtime lists of the TypeScript types' property names; each line fails to compile if its
// type gains a property the list does not name.
const FIELD_KEYS = ['key', 'label', 'kind', 'required', 'minLength', 'maxLength', 'regex', 'min', 'max', 'integer', 'enum'] as const satisfies readonly KeysOfUnion<Field>[];
const FIELD_KINDS = ['text', 'number', 'select', 'date', 'checkbox'] as const satisfies readonly FieldKind[];
const DETAIL_KEYS = ['field', 'code', 'message'] as const satisfies readonly (keyof ErrorDetail)[];
const SUBMISSION_KEYS = ['email', 'data'] as const satisfies readonly (keyof Submission)[];
const complete: [
  Complete<KeysOfUnion<Field>, (typeof FIELD_KEYS)[number]>,
  Complete<FieldKind, (typeof FIELD_KINDS)[number]>,
  Complete<keyof ErrorDetail, (typeof DETAIL_KEYS)[number]>,
  Complete<keyof Submission, (typeof SUBMISSION_KEYS)[number]>,
] = [true, true, true, true];
void complete;

/**
 * Checks the TypeScript wire types against the service's own OpenAPI document. scripts/test-js.sh
 * fetches `/openapi.json` from a running server into the file `USERS_API_OPENAPI` names.
 */
const documentPath = process.env.USERS_API_OPENAPI;
if (!documentPath) {
  console.warn(
    'openapi.test.ts: SKIPPED — USERS_API_OPENAPI is not set. Run scripts/test-js.sh (it starts the service and ' +
      'fetches /openapi.json), or set USERS_API_OPENAPI to a saved copy of the document.',
  );
}

type Json = Record<string, unknown>;

function asObject(value: unknown, what: string): Json {
  expect(value, what).toBeTypeOf('object');
  expect(value, what).not.toBeNull();
  return value as Json;
}

/** Follows `$ref`s to the schema object they name. */
function resolve(document: Json, schema: unknown, seen = new Set<string>()): Json {
  const node = asObject(schema, 'schema');
  if (typeof node.$ref !== 'string') return node;
  const ref = node.$ref;
  expect(ref.startsWith('#/'), `only local $refs are followed: ${ref}`).toBe(true);
  expect(seen.has(ref), `circular $ref ${ref}`).toBe(false);
  seen.add(ref);
  const target = ref
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((at, part) => asObject(at, ref)[part], document);
  return resolve(document, target, seen);
}

/** The properties of an object schema, `allOf` parts merged. */
function properties(document: Json, schema: unknown): Json {
  const node = resolve(document, schema);
  const merged: Json = { ...((node.properties as Json | undefined) ?? {}) };
  for (const part of (node.allOf as unknown[] | undefined) ?? []) Object.assign(merged, properties(document, part));
  return merged;
}

function propertyNames(document: Json, schema: unknown): string[] {
  return Object.keys(properties(document, schema));
}

/** The item schema of the array property `name`. */
function itemsOf(document: Json, schema: unknown, name: string): unknown {
  const property = resolve(document, properties(document, schema)[name]);
  return property.items;
}

function responseSchema(document: Json, path: string, method: string, status: string): unknown {
  const paths = asObject(document.paths, 'paths');
  const operation = asObject(asObject(paths[path], `paths[${path}]`)[method], `${method.toUpperCase()} ${path}`);
  const responses = asObject(operation.responses, `${method.toUpperCase()} ${path} responses`);
  const response = asObject(responses[status], `${method.toUpperCase()} ${path} ${status}`);
  const content = asObject(response.content, `${method.toUpperCase()} ${path} ${status} content`);
  const json = asObject(content['application/json'], `${method.toUpperCase()} ${path} ${status} application/json`);
  return json.schema;
}

describe.skipIf(!documentPath)('the service OpenAPI document', () => {
  const load = () => JSON.parse(readFileSync(documentPath!, 'utf8')) as Json;

  it('has POST /v1/users and GET /v1/schema', () => {
    const paths = asObject(load().paths, 'paths');
    expect(asObject(paths['/v1/users'], '/v1/users')).toHaveProperty('post');
    expect(asObject(paths['/v1/schema'], '/v1/schema')).toHaveProperty('get');
  });

  it('answers POST /v1/users 200 with exactly the properties of SubmitResult', () => {
    const document = load();
    const names = propertyNames(document, responseSchema(document, '/v1/users', 'post', '200'));
    expect(names.sort()).toEqual([...SUBMIT_RESULT_KEYS].sort());
  });

  it('answers GET /v1/schema 200 with version, rejectUnknown and fields', () => {
    const document = load();
    const names = propertyNames(document, responseSchema(document, '/v1/schema', 'get', '200'));
    expect(names.sort()).toEqual(['fields', 'rejectUnknown', 'version']);
  });

  it('describes schema fields with the properties and kinds of Field', () => {
    const document = load();
    const field = itemsOf(document, responseSchema(document, '/v1/schema', 'get', '200'), 'fields');
    expect(propertyNames(document, field).sort()).toEqual([...FIELD_KEYS].sort());
    const kind = resolve(document, properties(document, field).kind);
    expect((kind.enum as string[]).sort()).toEqual([...FIELD_KINDS].sort());
  });

  it('describes errors with the shape UsersApiError reads', () => {
    const document = load();
    const body = responseSchema(document, '/v1/users', 'post', '422');
    expect(propertyNames(document, body)).toEqual(['error']);
    const content = properties(document, body).error;
    expect(propertyNames(document, content).sort()).toEqual(['code', 'details', 'message']);
    expect(propertyNames(document, itemsOf(document, content, 'details')).sort()).toEqual([...DETAIL_KEYS].sort());
  });

  it('takes the submission body the client sends', () => {
    const document = load();
    const operation = asObject(asObject(asObject(document.paths, 'paths')['/v1/users'], '/v1/users').post, 'POST /v1/users');
    const content = asObject(asObject(operation.requestBody, 'requestBody').content, 'requestBody content');
    const schema = asObject(content['application/json'], 'requestBody application/json').schema;
    expect(propertyNames(document, schema).sort()).toEqual([...SUBMISSION_KEYS].sort());
  });
});

// The accounts API's types, checked the same way: each list fails to compile if its type gains
// a property it does not name, and the test compares it with the service's document.
const USER_KEYS = [
  'id', 'email', 'name', 'bio', 'avatar_url', 'email_verified', 'organization_id', 'role', 'permissions', 'organizations', 'data',
  'created_at', 'updated_at', 'last_login_at',
] as const satisfies readonly (keyof User)[];
const MANAGED_USER_KEYS = [
  'id', 'email', 'name', 'bio', 'avatar_url', 'email_verified', 'role', 'permissions', 'organizations', 'data', 'created_at',
  'updated_at', 'last_login_at', 'disabled', 'has_password',
] as const satisfies readonly (keyof ManagedUser)[];
const MEMBERSHIP_KEYS = ['id', 'name', 'slug', 'role', 'permissions', 'joined_at'] as const satisfies readonly (keyof Membership)[];
const AUTH_RESULT_KEYS = ['user', 'token', 'expires_at', 'refresh_token'] as const satisfies readonly (keyof AuthResult)[];
const REFRESH_KEYS = ['token', 'expires_at', 'refresh_token'] as const satisfies readonly (keyof RefreshResult)[];
const SESSION_KEYS = ['id', 'current', 'created_at', 'last_used_at', 'expires_at', 'user_agent', 'ip_address'] as const satisfies readonly (keyof SessionInfo)[];
const ORGANIZATION_KEYS = ['id', 'name', 'slug', 'allowed_email_domains', 'role', 'permissions', 'created_at', 'updated_at'] as const satisfies readonly (keyof Organization)[];
const MEMBER_KEYS = ['id', 'email', 'name', 'avatar_url', 'email_verified', 'disabled', 'role', 'permissions', 'joined_at'] as const satisfies readonly (keyof OrganizationMember)[];
const INVITATION_KEYS = ['id', 'organization_id', 'email', 'role', 'message', 'invited_by', 'expires_at', 'created_at'] as const satisfies readonly (keyof Invitation)[];
const INVITATION_INFO_KEYS = [
  'app_id', 'app_name', 'organization_id', 'organization_name', 'email', 'role', 'inviter', 'message', 'expires_at', 'status', 'account_exists',
] as const satisfies readonly (keyof InvitationInfo)[];
const VERIFY_KEYS = ['email', 'email_verified', 'joined_organizations'] as const satisfies readonly (keyof VerifyEmailResult)[];
const accountsComplete: [
  Complete<keyof User, (typeof USER_KEYS)[number]>,
  Complete<keyof ManagedUser, (typeof MANAGED_USER_KEYS)[number]>,
  Complete<keyof Membership, (typeof MEMBERSHIP_KEYS)[number]>,
  Complete<keyof AuthResult, (typeof AUTH_RESULT_KEYS)[number]>,
  Complete<keyof RefreshResult, (typeof REFRESH_KEYS)[number]>,
  Complete<keyof SessionInfo, (typeof SESSION_KEYS)[number]>,
  Complete<keyof Organization, (typeof ORGANIZATION_KEYS)[number]>,
  Complete<keyof OrganizationMember, (typeof MEMBER_KEYS)[number]>,
  Complete<keyof Invitation, (typeof INVITATION_KEYS)[number]>,
  Complete<keyof InvitationInfo, (typeof INVITATION_INFO_KEYS)[number]>,
  Complete<keyof VerifyEmailResult, (typeof VERIFY_KEYS)[number]>,
] = [true, true, true, true, true, true, true, true, true, true, true];
void accountsComplete;

describe.skipIf(!documentPath)('the service OpenAPI document, accounts routes', () => {
  const load = () => JSON.parse(readFileSync(documentPath!, 'utf8')) as Json;
  /** The `data` of a `{"success": true, "data": …}` answer. */
  const data = (document: Json, path: string, method: string, status: string) =>
    properties(document, responseSchema(document, path, method, status)).data;
  const sorted = (keys: readonly string[]) => [...keys].sort();

  it.each([
    ['/v1/users/me', 'get', '200', USER_KEYS],
    ['/v1/users/me', 'put', '200', USER_KEYS],
    ['/v1/auth/register', 'post', '201', AUTH_RESULT_KEYS],
    ['/v1/auth/login', 'post', '200', AUTH_RESULT_KEYS],
    ['/v1/invites/accept', 'post', '200', AUTH_RESULT_KEYS],
    ['/v1/auth/refresh', 'post', '200', REFRESH_KEYS],
    ['/v1/auth/verify-email', 'post', '200', VERIFY_KEYS],
    ['/v1/invites/{token}', 'get', '200', INVITATION_INFO_KEYS],
    ['/v1/organizations', 'post', '201', ORGANIZATION_KEYS],
    ['/v1/organizations/{org}', 'get', '200', ORGANIZATION_KEYS],
    ['/v1/organizations/{org}/invites', 'post', '201', INVITATION_KEYS],
    ['/v1/users/{id}', 'get', '200', MANAGED_USER_KEYS],
    ['/v1/users/{id}', 'put', '200', MANAGED_USER_KEYS],
  ] as const)('%s %s %s has the properties of its type', (path, method, status, keys) => {
    const document = load();
    expect(propertyNames(document, data(document, path, method, status)).sort()).toEqual(sorted(keys));
  });

  it.each([
    ['/v1/users/me/sessions', 'get', 'sessions', SESSION_KEYS],
    ['/v1/organizations', 'get', 'organizations', ORGANIZATION_KEYS],
    ['/v1/organizations/{org}/users', 'get', 'users', MEMBER_KEYS],
    ['/v1/organizations/{org}/invites', 'get', 'invites', INVITATION_KEYS],
    ['/v1/users', 'get', 'users', MANAGED_USER_KEYS],
  ] as const)('%s %s lists %s with the properties of its type', (path, method, list, keys) => {
    const document = load();
    expect(propertyNames(document, itemsOf(document, data(document, path, method, '200'), list)).sort()).toEqual(sorted(keys));
  });

  it('lists memberships with the properties of Membership', () => {
    const document = load();
    expect(propertyNames(document, itemsOf(document, data(document, '/v1/users/me', 'get', '200'), 'organizations')).sort()).toEqual(
      sorted(MEMBERSHIP_KEYS),
    );
  });
});
