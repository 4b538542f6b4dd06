// app/api/team/route.ts
import { createRemoteJWKSet, jwtVerify } from 'jose';

const API = process.env.USERS_API_URL!; // e.g. https://users.example.com
const APP_ID = process.env.USERS_API_APP_ID!;
const jwks = createRemoteJWKSet(new URL(`${API}/.well-known/jwks.json`));

export async function GET(request: Request) {
  const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
  const { payload } = await jwtVerify(token, jwks, {
    issuer: API, audience: APP_ID, algorithms: ['EdDSA'],
  }).catch(() => ({ payload: null }));
  if (!payload?.org || !(payload.permissions as string[]).includes('users:read')) {
    return Response.json({ error: 'forbidden' }, { status: 403 });
  }
  const answer = await fetch(`${API}/v1/organizations/${payload.org}/users?limit=50`, {
    headers: { 'x-api-key': process.env.USERS_API_KEY!, 'x-app-id': APP_ID },
  });
  return Response.json((await answer.json()).data);
}
