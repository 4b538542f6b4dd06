// The site's own backend, as small as it gets: plain node:http, one route.
//
//   GET /api/members   the members of the caller's active organization
//
// The page sends its access token (`Authorization: Bearer …`); the route verifies it against
// the service's public keys (no call to the service), then asks Users API for the members with
// the app's API key, which never leaves this server. Run it with `npm run server` (reads
// server/.env: USERS_API_URL, USERS_API_APP_ID, USERS_API_KEY, PORT).
import { createServer } from 'node:http';

import { createServerClient, UnauthorizedError, UsersApiError } from '@users-api/client/server';

/** @param {string} name */
function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set: copy server/.env.example to server/.env and fill it in`);
    process.exit(1);
  }
  return value;
}

const usersApi = createServerClient({
  baseUrl: required('USERS_API_URL'),
  appId: required('USERS_API_APP_ID'),
  apiKey: required('USERS_API_KEY'),
  // The tokens' `iss` is the service's public URL; set this only when it differs from USERS_API_URL.
  issuer: process.env.USERS_API_ISSUER || undefined,
});

/**
 * @param {import('node:http').IncomingMessage} request
 * @returns {Promise<[number, unknown]>} the status and the JSON body
 */
async function members(request) {
  const token = request.headers.authorization?.replace(/^Bearer /, '') ?? '';
  const claims = await usersApi.verifyAccessToken(token);
  if (!claims.org) {
    return [403, { error: 'no_organization', message: 'Create or join an organization first.' }];
  }
  // What the caller may do, from its token; the API key alone could read any organization.
  if (!claims.permissions.includes('users:read')) {
    return [403, { error: 'forbidden', message: 'You may not see the members of this organization.' }];
  }
  const { users } = await usersApi.organizations.users(claims.org, { limit: 100 });
  return [
    200,
    {
      organization_id: claims.org,
      members: users.map(({ id, email, name, role, joined_at }) => ({ id, email, name, role, joined_at })),
    },
  ];
}

/**
 * @param {import('node:http').IncomingMessage} request
 * @returns {Promise<[number, unknown]>}
 */
async function route(request) {
  const { pathname } = new URL(request.url ?? '/', 'http://localhost');
  if (pathname !== '/api/members') return [404, { error: 'not_found', message: 'No such route.' }];
  if (request.method !== 'GET') return [405, { error: 'method_not_allowed', message: 'Use GET.' }];
  try {
    return await members(request);
  } catch (error) {
    if (error instanceof UnauthorizedError) {
      return [401, { error: error.code, message: 'Please log in again.' }];
    }
    if (error instanceof UsersApiError && error.status === 0) {
      // The service or its keys could not be reached: not the caller's fault.
      return [503, { error: error.code, message: 'The accounts service is not reachable. Try again soon.' }];
    }
    console.error('GET /api/members failed:', error);
    return [502, { error: 'upstream_error', message: 'The members could not be read.' }];
  }
}

const server = createServer((request, response) => {
  void route(request).then(([status, body]) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    response.end(JSON.stringify(body));
  });
});

const port = Number(process.env.PORT ?? 3001);
server.listen(port, process.env.HOST ?? '127.0.0.1', () => {
  console.log(`the members route listens on http://${process.env.HOST ?? '127.0.0.1'}:${port}/api/members`);
});
