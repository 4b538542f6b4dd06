import { createUsersClient, ForbiddenError, UnauthorizedError, ValidationError } from '@users-api/client';

export const users = createUsersClient({
  baseUrl: 'https://users.example.com',
  appId: 'my-site',
  storage: 'localStorage', // the default is 'memory': logged out at every reload
});

export async function signUp(email: string, password: string, name: string) {
  try {
    const { user } = await users.auth.register({ email, password, name });
    return { user };
  } catch (error) {
    // 422: error.fieldErrors.password is { code: 'too_common', message: '…' }
    if (error instanceof ValidationError) return { problems: error.fieldErrors };
    throw error;
  }
}

export async function profile() {
  // The access token is refreshed ahead of its expiry and after a 401, one refresh at a time.
  await users.users.update('me', { bio: 'Mathematician' });
  const me = await users.users.me();
  const sessions = await users.users.sessions();
  return { me, sessions };
}

export async function inviteColleague(organizationId: string, email: string) {
  try {
    return await users.organizations.invite(organizationId, { email, role: 'member' });
  } catch (error) {
    if (error instanceof ForbiddenError) return error.code; // 'forbidden', 'organization_access_denied', …
    if (error instanceof UnauthorizedError) return 'log in again';
    throw error;
  }
}
