const API_URL = 'https://users.example.com';
const APP_ID = 'my-marketing-site';

interface ApiError {
  error: { code: string; message: string; details?: { field: string; code: string; message: string }[] };
}

/** Sends one sign-up; resolves to the record's id, or throws with the service's message. */
export async function signUp(email: string, data: Record<string, string | number | boolean | null>): Promise<string> {
  const response = await fetch(`${API_URL}/v1/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-app-id': APP_ID },
    body: JSON.stringify({ email, data }),
  });
  if (!response.ok) {
    const { error } = (await response.json()) as ApiError;
    // 422: error.details lists every refused field, e.g. {field: "data.age", message: "must be at most 120"}.
    const problems = (error.details ?? []).map((detail) => `${detail.field} ${detail.message}`);
    throw new Error(problems.length > 0 ? problems.join('; ') : error.message);
  }
  const { id } = (await response.json()) as { id: string; createdAt: string; updatedAt: string };
  return id;
}
