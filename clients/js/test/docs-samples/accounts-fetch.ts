const api = 'https://users.example.com';

export async function logIn(email: string, password: string) {
  const login = await fetch(`${api}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-app-id': 'my-site' },
    body: JSON.stringify({ email, password }),
  }).then((r) => r.json());
  if (!login.success) throw new Error(login.error.message);
  const { token, refresh_token } = login.data;

  const me = await fetch(`${api}/v1/users/me`, {
    headers: { authorization: `Bearer ${token}` },
  }).then((r) => r.json());
  return { user: me.data, token, refresh_token };
}
