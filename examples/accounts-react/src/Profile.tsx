import { useAuth } from '@users-api/client/react';
import { useState } from 'react';

import { Field, Outcome, useSubmit } from './forms';

/** Name and bio: `PUT /v1/users/me`, then the provider reads the account again. */
export function Profile() {
  const { client, user, reload } = useAuth();
  const [name, setName] = useState(user?.name ?? '');
  const [bio, setBio] = useState(user?.bio ?? '');
  const { sending, problems, done, onSubmit } = useSubmit(['name', 'bio'], async () => {
    await client.users.update('me', { name: name.trim() || null, bio: bio.trim() || null });
    await reload();
    return 'Profile saved.';
  });
  return (
    <section aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <form className="form" onSubmit={onSubmit} noValidate>
        <Field label="Name" name="name" value={name} onChange={setName} autoComplete="name" problem={problems.fields.name} />
        <Field label="Bio" name="bio" value={bio} onChange={setBio} multiline problem={problems.fields.bio} />
        <button type="submit" className="primary" disabled={sending}>
          Save profile
        </button>
        <Outcome problems={problems} done={done} />
      </form>
    </section>
  );
}

/** `PUT /v1/users/me/password`: this session goes on, every other one ends. */
export function ChangePassword() {
  const { client } = useAuth();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const { sending, problems, done, onSubmit } = useSubmit(['current_password', 'new_password'], async () => {
    await client.users.changePassword({ current_password: current, new_password: next });
    setCurrent('');
    setNext('');
    return 'Password changed. Your other sessions have ended.';
  });
  return (
    <section aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <form className="form" onSubmit={onSubmit} noValidate>
        <Field
          label="Current password"
          name="current_password"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={setCurrent}
          problem={problems.fields.current_password}
        />
        <Field
          label="New password"
          name="new_password"
          type="password"
          autoComplete="new-password"
          value={next}
          onChange={setNext}
          problem={problems.fields.new_password}
        />
        <button type="submit" className="primary" disabled={sending}>
          Change password
        </button>
        <Outcome problems={problems} done={done} />
      </form>
    </section>
  );
}
