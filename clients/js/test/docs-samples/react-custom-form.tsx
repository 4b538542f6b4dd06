import { createUsersClient } from '@users-api/client';
import { useUsersForm } from '@users-api/client/react';

const users = createUsersClient({
  baseUrl: import.meta.env.VITE_USERS_API_URL,
  appId: import.meta.env.VITE_USERS_API_APP_ID,
});

/** Your own markup for a schema with a `fullName` text field and a `plan` select. */
export function WaitingListForm() {
  const form = useUsersForm({ client: users });

  if (form.status === 'loading') return <p>Loading…</p>;
  if (form.status === 'loadFailed') return <p role="alert">The form could not be loaded: {form.loadError?.message}</p>;
  if (form.status === 'succeeded') return <p>Thanks, {String(form.values.fullName)}!</p>;

  return (
    <form
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void form.submit();
      }}
    >
      <label>
        Email
        <input type="email" value={form.email} onChange={(event) => form.setEmail(event.target.value)} />
      </label>
      {form.errors.email && <small>{form.errors.email.message}</small>}

      <label>
        Name
        <input value={String(form.values.fullName ?? '')} onChange={(event) => form.setValue('fullName', event.target.value)} />
      </label>
      {form.errors.fullName && <small>{form.errors.fullName.message}</small>}

      <select value={String(form.values.plan ?? '')} onChange={(event) => form.setValue('plan', event.target.value)}>
        <option value="">Choose a plan</option>
        <option value="free">Free</option>
        <option value="pro">Pro</option>
      </select>
      {form.errors.plan && <small>{form.errors.plan.message}</small>}

      {form.submitError && form.submitError.code !== 'validation_failed' && <p role="alert">{form.submitError.message}</p>}
      <button type="submit" disabled={form.status === 'submitting'}>
        Join
      </button>
    </form>
  );
}
