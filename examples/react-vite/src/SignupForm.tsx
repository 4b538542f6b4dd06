import { createUsersClient } from '@users-api/client';
import { UsersForm } from '@users-api/client/react';

// Created once, outside the component: the form reloads the schema whenever the client changes.
const users = createUsersClient({
  baseUrl: import.meta.env.VITE_USERS_API_URL,
  appId: import.meta.env.VITE_USERS_API_APP_ID,
});

export function SignupForm() {
  return (
    <UsersForm
      client={users}
      honeypotField="website"
      submitLabel="Join the waiting list"
      successMessage="Thank you! You are on the list."
      onSuccess={({ id }) => console.info('signed up as', id)}
    />
  );
}
