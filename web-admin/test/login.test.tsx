// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/App';
import { FIRST_ADMIN_COMMAND, LoginPage } from '../src/pages/LoginPage';

afterEach(cleanup);

describe('login page', () => {
  it('shows the server’s message inline on bad credentials', async () => {
    const fetchMock = vi.fn(async () =>
      new Response(JSON.stringify({ error: { code: 'invalid_credentials', message: 'The app id or password is wrong.' } }), { status: 401 }),
    );
    vi.stubGlobal('fetch', fetchMock);
    const onSignedIn = vi.fn();
    render(<LoginPage onSignedIn={onSignedIn} />);
    fireEvent.change(screen.getByLabelText('App id'), { target: { value: 'my-site' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveProperty('textContent', 'The app id or password is wrong.');
    expect(onSignedIn).not.toHaveBeenCalled();
    expect(screen.queryByText('invalid_credentials')).toBeNull();
  });

  it('sends email and password for admins', async () => {
    const fetchMock = vi.fn(async (..._args: unknown[]) => new Response(JSON.stringify({ ok: true, role: 'admin' }), { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    const onSignedIn = vi.fn();
    render(<LoginPage onSignedIn={onSignedIn} />);
    fireEvent.click(screen.getByLabelText('Platform admin'));
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: ' admin@example.com ' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'secret' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(onSignedIn).toHaveBeenCalled());
    expect((fetchMock.mock.calls[0]?.[1] as RequestInit).body).toBe('{"email":"admin@example.com","password":"secret"}');
  });
});

describe('first run (no admin yet)', () => {
  function serve(needsAdmin: boolean) {
    const fetchMock = vi.fn(async (input: unknown) => {
      const path = String(input);
      if (path === '/auth/session')
        return new Response(JSON.stringify({ error: { code: 'unauthenticated', message: 'Not logged in' } }), { status: 401 });
      if (path === '/auth/setup') return new Response(JSON.stringify({ needsAdmin }), { status: 200 });
      return new Response('{}', { status: 404 });
    });
    vi.stubGlobal('fetch', fetchMock);
    return fetchMock;
  }

  it('the login page names the command that creates the first admin', async () => {
    const fetchMock = serve(true);
    render(<App />);
    const hint = await screen.findByTestId('first-run');
    expect(hint.textContent).toContain('No admin exists yet.');
    expect(hint.querySelector('code')?.textContent).toBe(FIRST_ADMIN_COMMAND);
    expect(FIRST_ADMIN_COMMAND).toBe('users-api admin create --email you@example.com');
    expect((screen.getByLabelText('Platform admin') as HTMLInputElement).checked).toBe(true);
    expect(fetchMock.mock.calls.map((call) => String(call[0]))).toEqual(['/auth/session', '/auth/setup']);
  });

  it('says nothing of it once an admin exists', async () => {
    serve(false);
    render(<App />);
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeTruthy();
    expect(screen.queryByTestId('first-run')).toBeNull();
    expect(screen.queryByText(/admin create/)).toBeNull();
    expect((screen.getByLabelText('App owner') as HTMLInputElement).checked).toBe(true);
  });
});
