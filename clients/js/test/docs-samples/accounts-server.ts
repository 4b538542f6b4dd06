// app/api/team/route.ts (Next.js): the members of the caller's organization.
import { createServerClient, UnauthorizedError } from '@users-api/client/server';

const usersApi = createServerClient({
  baseUrl: process.env.USERS_API_URL!, // e.g. https://users.example.com
  appId: process.env.USERS_API_APP_ID!,
  apiKey: process.env.USERS_API_KEY!, // never sent to a browser
});

export async function GET(request: Request) {
  const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
  try {
    const claims = await usersApi.verifyAccessToken(token);
    if (!claims.org || !claims.permissions.includes('users:read')) {
      return Response.json({ error: 'forbidden' }, { status: 403 });
    }
    const { users } = await usersApi.organizations.users(claims.org, { limit: 50 });
    return Response.json(users);
  } catch (error) {
    if (error instanceof UnauthorizedError) return Response.json({ error: error.code }, { status: 401 });
    throw error;
  }
}
