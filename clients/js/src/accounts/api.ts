import type { RequestSpec } from '../http.js';
import type {
  CreateOrganizationInput,
  Invitation,
  InviteInput,
  MemberList,
  Organization,
  OrganizationList,
  OrganizationRole,
  PageOptions,
  UpdateOrganizationInput,
} from './types.js';

/** Sends a request with the caller's credential (a user's access token, or an API key). */
export type Call = <T>(spec: RequestSpec) => Promise<T>;

/** `/v1/organizations`: the same calls for a logged-in account and for an API key. */
export interface OrganizationsApi {
  /** `GET /v1/organizations`: an account's own (all at once); every one of the app for a tenant admin or key (paged). */
  list(options?: PageOptions): Promise<OrganizationList>;
  /** `GET /v1/organizations/{org}`. */
  get(organizationId: string): Promise<Organization>;
  /** `POST /v1/organizations`: the creating account becomes its `admin`. */
  create(input: CreateOrganizationInput): Promise<Organization>;
  /** `PATCH /v1/organizations/{org}`. */
  update(organizationId: string, changes: UpdateOrganizationInput): Promise<Organization>;
  /** `DELETE /v1/organizations/{org}` (a tenant admin), with its memberships. */
  delete(organizationId: string): Promise<void>;
  /** `GET /v1/organizations/{org}/users`: members with role and permissions. */
  users(organizationId: string, options?: PageOptions & { role?: OrganizationRole | undefined }): Promise<MemberList>;
  /** `DELETE /v1/organizations/{org}/users/{user}`: removes the membership (or leaves, for oneself). */
  removeUser(organizationId: string, userId: string): Promise<void>;
  /** `POST /v1/organizations/{org}/invites`: the invitation e-mail is queued. */
  invite(organizationId: string, input: InviteInput): Promise<Invitation>;
  /** `GET /v1/organizations/{org}/invites`: the pending invitations. */
  invites(organizationId: string): Promise<Invitation[]>;
  /** `DELETE /v1/organizations/{org}/invites/{id}`: its link stops working. */
  revokeInvite(organizationId: string, invitationId: string): Promise<void>;
}

export function segment(value: string, what: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${what} is required`);
  return encodeURIComponent(value);
}

export function organizationsApi(call: Call): OrganizationsApi {
  const org = (id: string) => `/v1/organizations/${segment(id, 'organizationId')}`;
  return {
    list: (options = {}) =>
      call({ method: 'GET', path: '/v1/organizations', query: { limit: options.limit, cursor: options.cursor }, retry: true }),
    get: (id) => call({ method: 'GET', path: org(id), retry: true }),
    create: (input) => call({ method: 'POST', path: '/v1/organizations', body: input }),
    update: (id, changes) => call({ method: 'PATCH', path: org(id), body: changes, retry: true }),
    delete: async (id) => {
      await call({ method: 'DELETE', path: org(id), retry: true });
    },
    users: (id, options = {}) =>
      call({ method: 'GET', path: `${org(id)}/users`, query: { limit: options.limit, cursor: options.cursor, role: options.role }, retry: true }),
    removeUser: async (id, userId) => {
      await call({ method: 'DELETE', path: `${org(id)}/users/${segment(userId, 'userId')}`, retry: true });
    },
    invite: (id, input) => call({ method: 'POST', path: `${org(id)}/invites`, body: input }),
    invites: async (id) => (await call<{ invites: Invitation[] }>({ method: 'GET', path: `${org(id)}/invites`, retry: true })).invites,
    revokeInvite: async (id, invitationId) => {
      await call({ method: 'DELETE', path: `${org(id)}/invites/${segment(invitationId, 'invitationId')}`, retry: true });
    },
  };
}
