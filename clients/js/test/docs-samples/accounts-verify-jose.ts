import { createRemoteJWKSet, jwtVerify } from 'jose';

const API = process.env.USERS_API_URL!; // e.g. https://users.example.com
const jwks = createRemoteJWKSet(new URL(`${API}/.well-known/jwks.json`));

export async function verify(token: string) {
  const { payload } = await jwtVerify(token, jwks, {
    algorithms: ['EdDSA'], audience: 'my-site', issuer: API,
  });
  return payload;
}
