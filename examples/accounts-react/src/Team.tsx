import type { Invitation, User, UsersClient } from '@users-api/client';
import { useAuth } from '@users-api/client/react';
import { useCallback, useEffect, useState } from 'react';

import { Field, Outcome, problemsOf, useSubmit } from './forms';

/** One row of `GET /api/members`, the site's own Node route (server/index.mjs). */
interface Member {
  id: string;
  email: string;
  name: string | null;
  role: string;
  joined_at: string;
}

/**
 * The members of the signed-in account's active organization, from the site's own backend:
 * the page sends its access token, the route checks it and asks Users API with the app's API
 * key. (The page could ask Users API itself with `client.organizations.users(id)`; the route
 * is where your backend would add what it knows, such as billing seats.)
 */
async function fetchMembers(client: UsersClient): Promise<Member[]> {
  const token = await client.auth.getAccessToken();
  const response = await fetch('/api/members', { headers: { authorization: `Bearer ${token ?? ''}` } });
  const body = (await response.json().catch(() => ({}))) as { members?: Member[]; message?: string };
  if (!response.ok || body.members === undefined) {
    throw new Error(body.message ?? `The members could not be read (${response.status}).`);
  }
  return body.members;
}

function CreateOrganization() {
  const { client, reload } = useAuth();
  const [name, setName] = useState('');
  const { sending, problems, done, onSubmit } = useSubmit(['name', 'slug'], async () => {
    const organization = await client.organizations.create({ name: name.trim() });
    // The access token speaks for one organization (its `org` claim): switch to the new one,
    // so that the token carries the admin role there, then read the account again.
    await client.auth.refresh({ organization_id: organization.id });
    await reload();
    return `${organization.name} is created.`;
  });
  return (
    <form className="form" onSubmit={onSubmit} noValidate>
      <Field label="Organization name" name="name" value={name} onChange={setName} problem={problems.fields.name} required />
      <button type="submit" className="primary" disabled={sending || name.trim() === ''}>
        Create organization
      </button>
      <Outcome problems={problems} done={done} />
    </form>
  );
}

function Invite({ organizationId, onInvited }: { organizationId: string; onInvited: () => void }) {
  const { client } = useAuth();
  const [email, setEmail] = useState('');
  const [message, setMessage] = useState('');
  const { sending, problems, done, onSubmit } = useSubmit(['email', 'message'], async () => {
    const invitation = await client.organizations.invite(organizationId, {
      email: email.trim(),
      role: 'member',
      message: message.trim() || undefined,
    });
    setEmail('');
    setMessage('');
    onInvited();
    return `Invitation sent to ${invitation.email}.`;
  });
  return (
    <form className="form" onSubmit={onSubmit} noValidate>
      <Field label="Invite by email" name="email" type="email" value={email} onChange={setEmail} problem={problems.fields.email} required />
      <Field label="Message (optional)" name="message" value={message} onChange={setMessage} problem={problems.fields.message} />
      <button type="submit" className="primary" disabled={sending}>
        Send invitation
      </button>
      <Outcome problems={problems} done={done} />
    </form>
  );
}

function Members({ user, organizationId, version }: { user: User; organizationId: string; version: number }) {
  const { client } = useAuth();
  const [members, setMembers] = useState<Member[] | undefined>();
  const [invites, setInvites] = useState<Invitation[]>([]);
  const [problem, setProblem] = useState<string | undefined>();
  const mayManage = user.permissions.includes('users:write');

  const load = useCallback(async () => {
    setProblem(undefined);
    try {
      setMembers(await fetchMembers(client));
      if (user.permissions.includes('invites:write')) setInvites(await client.organizations.invites(organizationId));
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  }, [client, organizationId, user.permissions]);

  useEffect(() => {
    void load();
  }, [load, version]);

  const remove = async (member: Member) => {
    try {
      await client.organizations.removeUser(organizationId, member.id);
      await load();
    } catch (error) {
      setProblem(problemsOf(error, []).alert);
    }
  };

  return (
    <div className="members-block">
      <h3>
        Members{' '}
        <button type="button" className="link-button" onClick={() => void load()}>
          Refresh
        </button>
      </h3>
      {problem !== undefined && (
        <p className="alert" role="alert">
          {problem}
        </p>
      )}
      {members === undefined ? (
        <p role="status">Loading the members…</p>
      ) : (
        <table className="members">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              {mayManage && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {members.map((member) => (
              <tr key={member.id}>
                <td>{member.name ?? '—'}</td>
                <td>{member.email}</td>
                <td>{member.role}</td>
                {mayManage && (
                  <td>
                    {member.id !== user.id && (
                      <button type="button" className="link-button" onClick={() => void remove(member)}>
                        Remove {member.name ?? member.email}
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {invites.length > 0 && (
        <>
          <h3>Pending invitations</h3>
          <ul>
            {invites.map((invite) => (
              <li key={invite.id}>
                {invite.email} ({invite.role}), until {new Date(invite.expires_at).toLocaleDateString()}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** The account's organization: create one, invite people, see and remove members. */
export function Team() {
  const { user } = useAuth();
  const [version, setVersion] = useState(0);
  if (!user) return null;
  const active = user.organizations.find((organization) => organization.id === user.organization_id);

  return (
    <section aria-labelledby="team-title">
      <h2 id="team-title">{active ? active.name : 'Your organization'}</h2>
      {active ? (
        <>
          <p>
            You are <strong>{active.role}</strong> here.
          </p>
          {user.permissions.includes('invites:write') && (
            <Invite organizationId={active.id} onInvited={() => setVersion((count) => count + 1)} />
          )}
          <Members user={user} organizationId={active.id} version={version} />
        </>
      ) : user.email_verified ? (
        <CreateOrganization />
      ) : (
        <p>Confirm your address first: then you can create an organization.</p>
      )}
    </section>
  );
}
