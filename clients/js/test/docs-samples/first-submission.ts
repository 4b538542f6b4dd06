import { createUsersClient, UsersApiError } from '@users-api/client';

const users = createUsersClient({ baseUrl: 'http://localhost:8080', appId: 'my-marketing-site' });

try {
  const { id, createdAt } = await users.submit({
    email: 'ada@example.com',
    data: { fullName: 'Ada Lovelace', plan: 'pro', consentRequired: true },
  });
  console.log(`stored ${id} at ${createdAt}`);
} catch (error) {
  if (!(error instanceof UsersApiError)) throw error;
  // error.code says what happened; error.details says which fields were refused.
  console.error(error.status, error.code, error.message, error.details);
}
