import { createUsersClient, describeError, UsersApiError } from '@users-api/client';

const users = createUsersClient({
  baseUrl: import.meta.env.VITE_USERS_API_URL,
  appId: import.meta.env.VITE_USERS_API_APP_ID,
  timeoutMs: 8_000,
});

/** Sends a sign-up and returns the sentence to show the visitor. */
export async function join(email: string, fullName: string): Promise<string> {
  try {
    await users.submit({ email, data: { fullName } });
    return 'Thank you! You are on the list.';
  } catch (error) {
    if (!(error instanceof UsersApiError)) throw error;
    switch (error.code) {
      case 'validation_failed':
        // details: [{ field: 'email' | 'data.<key>', code: 'required' | 'max' | …, message }]
        return error.details.map((detail) => `${detail.field.replace(/^data\./, '')} ${detail.message}`).join('. ');
      case 'rate_limited':
        return `Too many attempts: try again in ${error.retryAfterSeconds ?? 60} seconds.`;
      default:
        // network_error, timeout, storage_unavailable (already retried once), origin_not_allowed, …
        console.warn('sign-up failed', error.code, error.requestId);
        return describeError(error, window.location.origin);
    }
  }
}
