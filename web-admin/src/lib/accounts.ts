// The Accounts and Organizations screens' rules, as pure functions (test/accounts.test.ts).
import { ApiError } from '../api/client';
import type { AccountChanges, NewAccount, NewInvite, NewOrganization, OrgRole } from '../api/types';

/** `billing:read, reports:write` (commas, spaces or lines) → the distinct permissions. */
export function parsePermissions(text: string): string[] {
  const permissions: string[] = [];
  for (const entry of text.split(/[\s,]+/)) if (entry !== '' && !permissions.includes(entry)) permissions.push(entry);
  return permissions;
}

/** `acme.example, b.example` → the domains. */
export const parseDomains = parsePermissions;

/** The 409s the accounts API answers, and the field of the form each belongs to. */
const CONFLICT_FIELDS: Record<string, string> = {
  email_taken: 'email',
  already_member: 'email',
  slug_taken: 'slug',
};

/**
 * The server's word about `field`: a 422 detail, or a 409 that belongs there (`email_taken`
 * next to the email, `slug_taken` next to the slug).
 */
export function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  if (error.status === 409 && CONFLICT_FIELDS[error.code] === field) return error.message;
  return error.details.find((d) => d.field === field)?.message;
}

/** Whether `error` still needs its banner once the fields in `fields` show their part. */
export function needsBanner(error: unknown, fields: readonly string[]): boolean {
  if (!error) return false;
  if (!(error instanceof ApiError)) return true;
  if (error.status === 409) return !fields.includes(CONFLICT_FIELDS[error.code] ?? '');
  if (error.details.length === 0) return true;
  return error.details.some((d) => !fields.includes(d.field) && !/^permissions\[\d+\]$/.test(d.field) && !/^allowed_email_domains\[\d+\]$/.test(d.field));
}

/** The 422 details of a list member (`permissions[2]`), naming the entry sent at that place. */
export function listProblems(error: unknown, field: string, sent: readonly string[]): string[] {
  if (!(error instanceof ApiError)) return [];
  const pattern = new RegExp(`^${field}\\[(\\d+)\\]$`);
  return error.details
    .filter((d) => d.field === field || pattern.test(d.field))
    .map((d) => {
      const index = pattern.exec(d.field)?.[1];
      return index !== undefined ? `${sent[Number(index)] ?? d.field}: ${d.message}` : d.message;
    });
}

export interface AccountForm {
  email: string;
  name: string;
  /** '' for none. */
  organizationId: string;
  /** An organization role with an organization; `tenant_admin` or '' without. */
  role: string;
  permissions: string;
  sendInvite: boolean;
}

export const emptyAccountForm: AccountForm = { email: '', name: '', organizationId: '', role: '', permissions: '', sendInvite: true };

/** POST …/accounts: only what is filled in; the invitation e-mail sets the password. */
export function newAccountBody(form: AccountForm): NewAccount {
  const body: NewAccount = { email: form.email.trim(), send_invite: form.sendInvite };
  if (form.name.trim()) body.name = form.name.trim();
  if (form.organizationId) body.organization_id = form.organizationId;
  if (form.role) body.role = form.role;
  const permissions = parsePermissions(form.permissions);
  if (permissions.length > 0) body.permissions = permissions;
  return body;
}

/** The role editor: app-wide (scope '') or in one organization. */
export interface RoleForm {
  scope: string;
  role: string;
  permissions: string;
}

export function roleChangesBody(form: RoleForm): AccountChanges {
  const body: AccountChanges = { permissions: parsePermissions(form.permissions) };
  if (form.role) body.role = form.role;
  if (form.scope) body.organization_id = form.scope;
  return body;
}

export interface OrganizationForm {
  name: string;
  slug: string;
  domains: string;
}

export const emptyOrganizationForm: OrganizationForm = { name: '', slug: '', domains: '' };

/** POST or PATCH …/organizations: an empty slug lets the service derive one from the name. */
export function organizationBody(form: OrganizationForm): NewOrganization {
  const body: NewOrganization = { name: form.name.trim(), allowed_email_domains: parseDomains(form.domains) };
  if (form.slug.trim()) body.slug = form.slug.trim();
  return body;
}

export interface InviteForm {
  email: string;
  role: OrgRole;
  message: string;
}

export const emptyInviteForm: InviteForm = { email: '', role: 'member', message: '' };

export function inviteBody(form: InviteForm): NewInvite {
  const body: NewInvite = { email: form.email.trim(), role: form.role };
  if (form.message.trim()) body.message = form.message.trim();
  return body;
}
