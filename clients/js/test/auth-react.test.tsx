// @vitest-environment jsdom
// The React accounts layer (<AuthProvider>, useAuth, the forms) against the real service.
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createUsersClient, ValidationError, type UsersClient, type UsersClientOptions } from '../src/index.js';
import {
  AcceptInviteForm,
  AuthProvider,
  ForgotPasswordForm,
  LoginForm,
  RegisterForm,
  ResetPasswordForm,
  useAuth,
} from '../src/react/index.js';
import { startService, uniqueEmail, type Service } from './service.js';

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
