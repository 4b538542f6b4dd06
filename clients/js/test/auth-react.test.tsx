// @vitest-environment jsdom
// The React accounts layer (<AuthProvider>, useAuth, the forms) against the real service.
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { userEvent } from '@testing-library/user-event';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createUsersClient, UsersApiError, ValidationError, type UsersClient, type UsersClientOptions } from '../src/index.js';
import {
  AcceptInviteForm,
  AuthProvider,
  ChangePasswordForm,
  describeAuthError,
  ForgotPasswordForm,
  LoginForm,
  ProfileForm,
  RegisterForm,
  ResetPasswordForm,
  useAuth,
  VerifyEmail,
} from '../src/react/index.js';
import { countingFetch, startService, uniqueEmail, type Service } from './service.js';

const password = 'correct horse battery staple';
let service: Service;

beforeAll(async () => {
  service = await startService('js-react-accounts', { organizationCreation: 'any_account' });
}, 120_000);
afterAll(() => service?.stop());
afterEach(() => {
  cleanup();
  localStorage.clear();
});

function client(extra: Partial<UsersClientOptions> = {}): UsersClient {
  return createUsersClient({ baseUrl: service.baseUrl, appId: service.appId, refreshLock: null, ...extra });
}

/** Shows the provider's state, and a logout button. */
function Who() {
  const auth = useAuth();
  return (
    <div>
      <p data-testid="status">{auth.status}</p>
      <p data-testid="who">{auth.user?.email ?? 'nobody'}</p>
      <button type="button" onClick={() => void auth.logout()}>
        Log out
      </button>
    </div>
  );
}

function renderWith(users: UsersClient, form: React.ReactNode) {
  return render(
    <AuthProvider client={users}>
      <Who />
      {form}
    </AuthProvider>,
  );
}

/** The text of the error the control points at with aria-describedby. */
function describedError(control: HTMLElement): string | null | undefined {
  expect(control.getAttribute('aria-invalid')).toBe('true');
  const id = control.getAttribute('aria-describedby');
  expect(id).toBeTruthy();
  return document.getElementById(id!)?.textContent;
}

describe('RegisterForm', () => {
  it('shows the 422 details of the service next to their fields, then registers and signs in', async () => {
    const users = client();
    const user = userEvent.setup();
    renderWith(users, <RegisterForm />);
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('signedOut'));
    const email = uniqueEmail('react');

    await user.type(screen.getByLabelText(/^Name/), 'Ada');
    await user.type(screen.getByLabelText(/^Email/), email);
    // Long enough for the browser's check; too common for the service's.
    await user.type(screen.getByLabelText(/^Password/), 'password123');
    await user.click(screen.getByRole('button', { name: 'Create account' }));

    const passwordInput = screen.getByLabelText(/^Password/);
    await waitFor(() => expect(passwordInput.getAttribute('aria-invalid')).toBe('true'));
    expect(describedError(passwordInput)).toMatch(/common|guess/i);
    expect(document.activeElement).toBe(passwordInput);
    expect(screen.getByTestId('status').textContent).toBe('signedOut');

    await user.clear(passwordInput);
    await user.type(passwordInput, password);
    await user.click(screen.getByRole('button', { name: 'Create account' }));

    expect((await screen.findByRole('status', { name: '' })).textContent).toContain(email);
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('signedIn'));
    expect(screen.getByTestId('who').textContent).toBe(email);
  });

  it('checks required fields and the address before sending anything', async () => {
    const users = client();
    const user = userEvent.setup();
    renderWith(users, <RegisterForm askName={false} />);

    await user.type(screen.getByLabelText(/^Email/), 'not an address');
    await user.type(screen.getByLabelText(/^Password/), 'short');
    await user.click(screen.getByRole('button', { name: 'Create account' }));

    expect(describedError(screen.getByLabelText(/^Email/))).toBe('must be a valid email address');
    expect(describedError(screen.getByLabelText(/^Password/))).toBe('must be at least 8 characters');
    expect(screen.queryByLabelText(/^Name/)).toBeNull();
  });
});

describe('LoginForm and logout', () => {
  it('says so when the password is wrong, signs in with the right one, and logs out', async () => {
    const email = uniqueEmail('login');
    await client().auth.register({ email, password });
    const users = client();
    const user = userEvent.setup();
    renderWith(users, <LoginForm />);

    await user.type(screen.getByLabelText(/^Email/), email);
    await user.type(screen.getByLabelText(/^Password/), 'a wrong password indeed');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('The email or the password is not right.');

    await user.clear(screen.getByLabelText(/^Password/));
    await user.type(screen.getByLabelText(/^Password/), password);
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    await waitFor(() => expect(screen.getByTestId('who').textContent).toBe(email));

    await user.click(screen.getByRole('button', { name: 'Log out' }));
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('signedOut'));
    expect(await users.auth.isLoggedIn()).toBe(false);
  });
});

describe('AuthProvider', () => {
  it('restores a session from localStorage and follows a logout in another tab', async () => {
    const email = uniqueEmail('tabs');
    const users = client({ storage: 'localStorage' });
    await users.auth.register({ email, password });

    // A reload: a new client on the same storage.
    const reloaded = client({ storage: 'localStorage' });
    renderWith(reloaded, null);
    await waitFor(() => expect(screen.getByTestId('who').textContent).toBe(email));

    // Another tab logs out: its storage event reaches this one.
    const key = `users-api:${service.appId}:tokens`;
    act(() => {
      localStorage.removeItem(key);
      window.dispatchEvent(new StorageEvent('storage', { key }));
    });
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('signedOut'));
    expect(screen.getByTestId('who').textContent).toBe('nobody');
  });

  it('needs a provider above useAuth', () => {
    const spy = console.error;
    console.error = () => {};
    try {
      expect(() => render(<Who />)).toThrow(/AuthProvider/);
    } finally {
      console.error = spy;
    }
  });
});

describe('ForgotPasswordForm and ResetPasswordForm', () => {
  it('sends the link, and the reset form sets the new password with its token', async () => {
    const email = uniqueEmail('forgot');
    await client().auth.register({ email, password });
    const users = client();
    const user = userEvent.setup();
    const { unmount } = renderWith(users, <ForgotPasswordForm />);

    await user.type(screen.getByLabelText(/^Email/), email);
    await user.click(screen.getByRole('button', { name: 'Send the link' }));
    expect((await screen.findByText(/link/, { selector: '.users-auth-form__success' })).textContent).toMatch(/on its way/);
    unmount();

    const token = await service.mailToken(email, 'reset_password');
    renderWith(users, <ResetPasswordForm token={token} />);
    await user.type(screen.getByLabelText(/^New password/), 'password123');
    await user.click(screen.getByRole('button', { name: 'Set the password' }));
    // The service's 422 next to the field; the link stays usable.
    const input = screen.getByLabelText(/^New password/);
    await waitFor(() => expect(input.getAttribute('aria-invalid')).toBe('true'));

    await user.clear(input);
    await user.type(input, 'a new long passphrase');
    await user.click(screen.getByRole('button', { name: 'Set the password' }));
    expect(await screen.findByText('Your password is set. Log in with it now.')).toBeTruthy();
    await expect(client().auth.login({ email, password: 'a new long passphrase' })).resolves.toBeTruthy();
  });

  it('reads the token from the page URL, and says so when there is none', () => {
    renderWith(client(), <ResetPasswordForm />);
    expect(screen.getByRole('alert').textContent).toMatch(/link from the e-mail/);
  });
});

describe('AcceptInviteForm', () => {
  it('shows the invitation, and a new person accepts it with a password', async () => {
    const admin = client();
    await admin.auth.register({ email: uniqueEmail('inviter'), password, name: 'Ines' });
    const organization = await admin.organizations.create({ name: `React org ${Date.now()}` });
    const email = uniqueEmail('invitee');
    await admin.organizations.invite(organization.id, { email, role: 'member', message: 'Come along' });
    const token = await service.mailToken(email, 'invitation');

    const users = client();
    const user = userEvent.setup();
    renderWith(users, <AcceptInviteForm token={token} />);

    const intro = await screen.findByText(new RegExp(organization.name));
    expect(intro.textContent).toContain('as member');
    expect(intro.textContent).toContain(email);
    await user.type(screen.getByLabelText(/^Name/), 'Ivy');
    await user.type(screen.getByLabelText(/^Choose a password/), password);
    await user.click(screen.getByRole('button', { name: 'Accept and create my account' }));

    expect(await screen.findByText(`Welcome to ${organization.name}!`)).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId('who').textContent).toBe(email));
    const members = await admin.organizations.users(organization.id);
    expect(members.users.map((member) => member.email)).toContain(email);
  });

  it('explains a link that does not work', async () => {
    renderWith(client(), <AcceptInviteForm token="no-such-token" />);
    expect((await screen.findByRole('alert')).textContent).toMatch(/no longer works/);
  });
});

describe('ValidationError in forms', () => {
  it('puts details of fields the form does not show above it', async () => {
    const users = client();
    users.auth.login = async () => {
      throw new ValidationError({
        status: 422,
        code: 'validation_failed',
        message: 'x',
        details: [
          { field: 'password', code: 'required', message: 'is required' },
          { field: 'organization_id', code: 'unknown', message: 'is not an organization' },
        ],
      });
    };
    const user = userEvent.setup();
    renderWith(users, <LoginForm />);

    await user.type(screen.getByLabelText(/^Email/), 'ada@example.com');
    await user.type(screen.getByLabelText(/^Password/), 'whatever it is');
    await user.click(screen.getByRole('button', { name: 'Log in' }));

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('organization_id is not an organization');
    expect(describedError(screen.getByLabelText(/^Password/))).toBe('is required');
  });
});

/** A client signed in as a new account, and that account's address. */
async function signedIn(name: string, extra: Partial<UsersClientOptions> = {}) {
  const users = client(extra);
  const email = uniqueEmail(name);
  await users.auth.register({ email, password, name: 'Ada' });
  return { users, email };
}

describe('required fields', () => {
  it('keep the * out of the label, so the input is named by the label alone', async () => {
    renderWith(client(), <LoginForm />);
    const email = screen.getByLabelText('Email', { exact: true });
    expect(email.getAttribute('type')).toBe('email');
    expect(screen.getByLabelText('Password', { exact: true }).getAttribute('type')).toBe('password');
    // Still marked, for the eye only.
    const mark = email.parentElement!.querySelector('.users-auth-form__required');
    expect(mark?.textContent).toBe('*');
    expect(mark?.getAttribute('aria-hidden')).toBe('true');
  });
});

describe('ProfileForm', () => {
  it('starts from the account, shows a 422 next to its field, saves, and the provider follows', async () => {
    const { users } = await signedIn('profile');
    const user = userEvent.setup();
    function Name() {
      return <p data-testid="name">{useAuth().user?.name ?? 'no name'}</p>;
    }
    renderWith(
      users,
      <>
        <Name />
        <ProfileForm submitLabel="Save profile" />
      </>,
    );
    const name = await screen.findByLabelText('Name', { exact: true });
    expect((name as HTMLInputElement).value).toBe('Ada');
    const bio = screen.getByLabelText('Bio', { exact: true });
    expect(bio.tagName).toBe('TEXTAREA');

    const avatar = screen.getByLabelText('Avatar URL', { exact: true });
    await user.type(avatar, 'http://insecure.example.com/a.png');
    await user.click(screen.getByRole('button', { name: 'Save profile' }));
    await waitFor(() => expect(avatar.getAttribute('aria-invalid')).toBe('true'));
    expect(describedError(avatar)).toMatch(/https/i);

    await user.clear(name);
    await user.type(name, 'Ada King');
    await user.type(bio, 'Wrote the first program.');
    await user.clear(avatar);
    await user.click(screen.getByRole('button', { name: 'Save profile' }));
    expect((await screen.findByRole('status')).textContent).toBe('Your profile is saved.');
    // The form stays, with what was saved; the context's account follows.
    expect((screen.getByLabelText('Name', { exact: true }) as HTMLInputElement).value).toBe('Ada King');
    await waitFor(() => expect(screen.getByTestId('name').textContent).toBe('Ada King'));

    const me = await users.users.me();
    expect([me.name, me.bio, me.avatar_url]).toEqual(['Ada King', 'Wrote the first program.', null]);
  });

  it('renders nothing while signed out', async () => {
    const { container } = renderWith(client(), <ProfileForm />);
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('signedOut'));
    expect(container.querySelector('form')).toBeNull();
  });
});

describe('ChangePasswordForm', () => {
  it('puts a wrong current password next to its field, then changes it', async () => {
    const { users, email } = await signedIn('change-password');
    const user = userEvent.setup();
    renderWith(users, <ChangePasswordForm />);
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('signedIn'));

    const current = screen.getByLabelText('Current password', { exact: true });
    const next = screen.getByLabelText('New password', { exact: true });
    await user.type(current, 'not my password at all');
    await user.type(next, 'a brand new passphrase');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    await waitFor(() => expect(current.getAttribute('aria-invalid')).toBe('true'));
    expect(describedError(current)).toMatch(/password/);
    expect(next.getAttribute('aria-invalid')).toBe('false');
    expect(document.activeElement).toBe(current);

    await user.clear(current);
    await user.type(current, password);
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    expect((await screen.findByRole('status')).textContent).toMatch(/changed/);
    expect((current as HTMLInputElement).value).toBe('');
    // This session goes on; the new password logs in.
    expect(screen.getByTestId('status').textContent).toBe('signedIn');
    await expect(client().auth.login({ email, password: 'a brand new passphrase' })).resolves.toBeTruthy();
  });
});

describe('VerifyEmail', () => {
  it('sends the token once under StrictMode, says so, and the account reads as verified', async () => {
    const counter = countingFetch();
    const { users, email } = await signedIn('verify', { fetch: counter.fetch });
    const token = await service.mailToken(email, 'verify_email');
    function Verified() {
      return <p data-testid="verified">{String(useAuth().user?.email_verified)}</p>;
    }
    counter.reset();
    render(
      <StrictMode>
        <AuthProvider client={users}>
          <Verified />
          <VerifyEmail token={token} />
        </AuthProvider>
      </StrictMode>,
    );
    expect(screen.getByRole('status').textContent).toMatch(/Confirming/);
    expect((await screen.findByText(`Thank you: ${email} is confirmed.`)).getAttribute('role')).toBe('status');
    await waitFor(() => expect(screen.getByTestId('verified').textContent).toBe('true'));
    expect(counter.count('POST /v1/auth/verify-email')).toBe(1);

    // Mounted again with the same token (a second render of the page): no second request.
    cleanup();
    renderWith(users, <VerifyEmail token={token} />);
    expect(await screen.findByText(`Thank you: ${email} is confirmed.`)).toBeTruthy();
    expect(counter.count('POST /v1/auth/verify-email')).toBe(1);
  });

  it('explains a link that does not work, and one without a token', async () => {
    renderWith(client(), <VerifyEmail token="no-such-token" />);
    expect((await screen.findByRole('alert')).textContent).toMatch(/no longer works/);
    cleanup();
    renderWith(client(), <VerifyEmail />);
    expect(screen.getByRole('alert').textContent).toMatch(/link from the e-mail/);
  });
});

describe('useAuth().switchOrganization', () => {
  it('makes another organization active without a reload, and refuses one that is not the account’s', async () => {
    const { users } = await signedIn('switch');
    const first = await users.organizations.create({ name: `First ${Date.now()}` });
    const second = await users.organizations.create({ name: `Second ${Date.now()}` });
    const stranger = await signedIn('stranger');
    const foreign = await stranger.users.organizations.create({ name: `Foreign ${Date.now()}` });
    const user = userEvent.setup();
    const failures: unknown[] = [];
    function Switcher() {
      const auth = useAuth();
      return (
        <div>
          <p data-testid="org">{auth.user?.organization_id ?? 'none'}</p>
          <p data-testid="role">{auth.user?.role ?? 'none'}</p>
          {[first, second, foreign].map((organization) => (
            <button
              key={organization.id}
              type="button"
              onClick={() => void auth.switchOrganization(organization.id).catch((error: unknown) => failures.push(error))}
            >
              {organization.name}
            </button>
          ))}
        </div>
      );
    }
    renderWith(users, <Switcher />);
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('signedIn'));

    await user.click(screen.getByRole('button', { name: first.name }));
    await waitFor(() => expect(screen.getByTestId('org').textContent).toBe(first.id));
    expect(screen.getByTestId('role').textContent).toBe('admin');
    await user.click(screen.getByRole('button', { name: second.name }));
    await waitFor(() => expect(screen.getByTestId('org').textContent).toBe(second.id));
    // The token speaks for it too: its `org` claim.
    const token = (await users.auth.getAccessToken())!;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { org?: string };
    expect(claims.org).toBe(second.id);

    await user.click(screen.getByRole('button', { name: foreign.name }));
    await waitFor(() => expect(failures).toHaveLength(1));
    expect(failures[0]).toBeInstanceOf(UsersApiError);
    expect(screen.getByTestId('org').textContent).toBe(second.id);
    expect(screen.getByTestId('status').textContent).toBe('signedIn');
  });
});

describe('describeAuthError', () => {
  it('speaks of the account service, not of sign-ups', () => {
    const unreachable = new UsersApiError({ status: 0, code: 'network_error', message: 'fetch failed' });
    const text = describeAuthError(unreachable, 'https://teams.example');
    expect(text).toMatch(/^The account service could not be reached/);
    expect(text).toContain('(https://teams.example)');
    for (const code of ['network_error', 'timeout', 'storage_unavailable', 'origin_not_allowed']) {
      expect(describeAuthError(new UsersApiError({ status: 0, code, message: 'x' }))).not.toMatch(/sign-up/i);
    }
  });
});
