/**
 * Wire types of the accounts API (docs/accounts.md, docs/api-reference.md). Field names are
 * the service's own, snake_case, in bodies and answers alike, so that a 422's `details[].field`
 * names the very key the caller sent.
 */

/** Roles inside one organization; `tenant_admin` is app-wide. */
export type OrganizationRole = 'admin' | 'member' | 'guest';
export type Role = OrganizationRole | 'tenant_admin' | (string & {});

/** One membership of an account, as `GET /v1/users/me` lists it. */
export interface Membership {
  id: string;
  name: string;
  slug: string;
  role: Role;
  permissions: string[];
  joined_at: string;
}

/** An account, as the account itself sees it. */
export interface User {
  id: string;
  email: string;
  name: string | null;
  bio: string | null;
  avatar_url: string | null;
  email_verified: boolean;
  /** The active organization (the one the access token speaks for), if any. */
  organization_id: string | null;
  role: Role | null;
  /** Effective permissions in the active organization. */
  permissions: string[];
  organizations: Membership[];
  /** The app's schema fields. */
  data: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

/** An account as an administrator (or an API key) sees it: no active organization of its own. */
export interface ManagedUser extends Omit<User, 'organization_id'> {
  disabled: boolean;
  /** `false` for an account created by an admin whose invitation was not accepted yet. */
  has_password: boolean;
}

/** `register`, `login` and `acceptInvite` answer this; the client keeps the tokens. */
export interface AuthResult {
  user: User;
  /** The access token (a JWT, EdDSA). */
  token: string;
  /** When `token` expires, RFC 3339. */
  expires_at: string;
  refresh_token: string;
}

/** `POST /v1/auth/refresh`. */
export interface RefreshResult {
  token: string;
  expires_at: string;
  refresh_token: string;
}

export interface RegisterInput {
  email: string;
  password: string;
  name?: string | undefined;
  /** Join this organization (an invitation for the address, or one of its allowed domains). */
  organization_id?: string | undefined;
  /** The app's schema fields, validated as a sign-up's are. */
  data?: Record<string, unknown> | undefined;
}

export interface LoginInput {
  email: string;
  password: string;
  /** Make this organization (a membership of the account) the active one. */
  organization_id?: string | undefined;
}

export interface VerifyEmailResult {
  email: string;
  email_verified: boolean;
  joined_organizations: string[];
}

export interface AcceptInviteInput {
  /** The `token` of the invitation link. */
  token: string;
  /** A new person sets a password; an existing account sends its own bearer token instead. */
  password?: string | undefined;
  name?: string | undefined;
}

/** `GET /v1/invites/{token}`: what an accept page shows. */
export interface InvitationInfo {
  app_id: string;
  app_name: string;
  organization_id: string | null;
  organization_name: string | null;
  email: string;
  role: Role;
  /** The inviter's name or address. */
  inviter: string | null;
  message: string | null;
  expires_at: string;
  status: 'pending' | 'accepted' | 'expired' | (string & {});
  account_exists: boolean;
}

export interface ProfileUpdate {
  name?: string | null | undefined;
  bio?: string | null | undefined;
  /** An https URL. */
  avatar_url?: string | null | undefined;
  data?: Record<string, unknown> | undefined;
}

export interface ChangePasswordInput {
  current_password: string;
  new_password: string;
}

export interface SessionInfo {
  id: string;
  /** The session this client uses. */
  current: boolean;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  user_agent: string | null;
  ip_address: string | null;
}

export interface Organization {
  id: string;
  name: string;
  slug: string;
  allowed_email_domains: string[];
  /** The caller's role there (an account's own list). */
  role?: Role;
  permissions?: string[];
  created_at: string;
  updated_at: string;
}

export interface CreateOrganizationInput {
  name: string;
  slug?: string | undefined;
  allowed_email_domains?: string[] | undefined;
}

export interface UpdateOrganizationInput {
  name?: string | undefined;
  slug?: string | undefined;
  allowed_email_domains?: string[] | undefined;
}

export interface OrganizationMember {
  id: string;
  email: string;
  name: string | null;
  avatar_url: string | null;
  email_verified: boolean;
  disabled: boolean;
  role: Role;
  permissions: string[];
  joined_at: string;
}

export interface InviteInput {
  email: string;
  /** Default `member`. */
  role?: Role | undefined;
  message?: string | undefined;
}

export interface Invitation {
  id: string;
  organization_id?: string | null;
  email: string;
  role: Role;
  message?: string | null;
  /** The inviting account's id (absent when an API key invited). */
  invited_by?: string | null;
  expires_at: string;
  created_at: string;
}

/** Keyset paging: pass `next_cursor` back as `cursor`; `null` on the last page. */
export interface PageOptions {
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface OrganizationList {
  organizations: Organization[];
  next_cursor?: string | null;
}

export interface MemberList {
  users: OrganizationMember[];
  next_cursor: string | null;
}

export interface UserList {
  users: ManagedUser[];
  next_cursor: string | null;
}

export interface ListUsersOptions extends PageOptions {
  /** Only accounts whose email or name contains this text. */
  q?: string | undefined;
  organization_id?: string | undefined;
  role?: Role | undefined;
}

/** `POST /v1/users` with a credential: an account without a password yet. */
export interface CreateUserInput {
  email: string;
  name?: string | undefined;
  role?: Role | undefined;
  organization_id?: string | undefined;
  permissions?: string[] | undefined;
  /** Send the invitation e-mail that lets the person set a password. */
  send_invite?: boolean | undefined;
}

/** `PUT /v1/users/{id}`. */
export interface UpdateUserInput {
  name?: string | undefined;
  disabled?: boolean | undefined;
  role?: Role | undefined;
  permissions?: string[] | undefined;
  organization_id?: string | undefined;
}
