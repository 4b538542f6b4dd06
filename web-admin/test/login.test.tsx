// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LoginPage } from '../src/pages/LoginPage';

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
