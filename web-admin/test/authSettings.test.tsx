// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MailSettings } from '../src/api/types';
import { AuthSettingsPanel } from '../src/pages/AuthSettingsPanel';
import { app, fakeApi, json, settings, type Call } from './fakeApi';

afterEach(cleanup);

/** The preview answers with the template it was sent, "rendered" by upper-casing. */
function serve(extra: (call: Call) => ReturnType<typeof json> | undefined = () => undefined) {
  let saved: MailSettings = settings;
  const calls = fakeApi((call) => {
    const answer = extra(call);
    if (answer) return answer;
    const { method, path, body } = call;
    if (method === 'GET' && path === '/v1/apps/site/mail-settings') return json(200, saved);
    if (method === 'PUT' && path === '/v1/apps/site/mail-settings') {
      saved = { ...saved, ...(body as Partial<MailSettings>) };
      return json(200, saved);
    }
    if (method === 'POST' && path === '/v1/apps/site/mail-settings/preview') {
      const { template } = body as { template: { subject: string; text: string; html: string } };
      return json(200, { from: '"Site" <no-reply@example.com>', subject: template.subject.toUpperCase(), text: template.text, html: template.html });
    }
    if (method === 'PATCH' && path === '/v1/apps/site') return json(200, { ...app, ...(body as object) });
    return undefined;
  });
  return calls;
}

const previews = (calls: Call[]) => calls.filter((c) => c.path.endsWith('/mail-settings/preview'));

describe('auth settings', () => {
  it('saves who may create organizations and the verified-email rule', async () => {
    const calls = serve();
    const onChanged = vi.fn();
    render(<AuthSettingsPanel app={app} onChanged={onChanged} />);
    fireEvent.click(screen.getByLabelText(/Only tenant admins and API keys/));
    fireEvent.click(screen.getByLabelText(/Require a verified email to log in/));
    fireEvent.click(screen.getByRole('button', { name: 'Save account settings' }));
    await waitFor(() => expect(onChanged).toHaveBeenCalled());
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({
      organizationCreation: 'tenant_admins',
      requireVerifiedEmail: true,
      accessTokenMinutes: null,
      sessionIdleDays: null,
      sessionAbsoluteDays: null,
    });
  });

  it('edits the token and session lifetimes: the service’s as placeholder, empty for the service’s, a refusal next to its field', async () => {
    const own = {
      ...app,
      accessTokenMinutes: 5,
      sessionIdleDays: null,
      sessionAbsoluteDays: 60,
      lifetimeLimits: { accessTokenMinutes: 15, sessionIdleDays: 30, sessionAbsoluteDays: 90 },
    };
    const calls = serve(({ method, body }) => {
      if (method === 'PATCH' && (body as { accessTokenMinutes?: number }).accessTokenMinutes === 14)
        return json(422, {
          error: {
            code: 'validation_failed',
            message: 'accessTokenMinutes must be 1 to 15 minutes',
            details: [{ field: 'accessTokenMinutes', code: 'range', message: "must be 1 to 15 minutes (the service's own setting), or null" }],
          },
        });
      return undefined;
    });
    const onChanged = vi.fn();
    render(<AuthSettingsPanel app={own} onChanged={onChanged} />);
    const access = screen.getByLabelText('Access token lifetime (minutes)') as HTMLInputElement;
    const idle = screen.getByLabelText('Session idle lifetime (days)') as HTMLInputElement;
    const absolute = screen.getByLabelText('Session absolute lifetime (days)') as HTMLInputElement;
    expect([access.value, idle.value, absolute.value]).toEqual(['5', '', '60']);
    expect(idle.placeholder).toBe('30 (service)');
    expect(access.max).toBe('15');
    expect(screen.getByText(/Service: 90 days\./)).toBeTruthy();

    // The service refuses one: its message next to that field, nothing reported saved.
    fireEvent.change(access, { target: { value: '14' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save account settings' }));
    await waitFor(() => expect(access.getAttribute('aria-invalid')).toBe('true'));
    expect(document.getElementById(access.getAttribute('aria-describedby')!)?.textContent).toMatch(/1 to 15 minutes/);
    expect(onChanged).not.toHaveBeenCalled();

    // Emptied: back to the service's (null); the others as typed.
    fireEvent.change(access, { target: { value: '' } });
    fireEvent.change(idle, { target: { value: '7' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save account settings' }));
    await waitFor(() => expect(onChanged).toHaveBeenCalled());
    expect(calls.filter((c) => c.method === 'PATCH').at(-1)?.body).toMatchObject({ accessTokenMinutes: null, sessionIdleDays: 7, sessionAbsoluteDays: 60 });
    expect(access.getAttribute('aria-invalid')).toBeNull();
  });

  it('previews as you type, debounced, with the HTML in a sandboxed frame only', async () => {
    const calls = serve();
    render(<AuthSettingsPanel app={app} onChanged={() => {}} />);
    const preview = await screen.findByTestId('mail-preview');
    await waitFor(() => expect(within(preview).getByTestId('preview-subject').textContent).toBe('CONFIRM'));
    expect(previews(calls)[0]?.body).toEqual({ kind: 'verify_email', template: settings.defaults.templates.verify_email });

    // The built-in template is shown, read-only, until customised.
    const subject = screen.getByLabelText('Subject') as HTMLInputElement;
    expect(subject.readOnly).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Customise' }));
    expect(subject.readOnly).toBe(false);
    const before = previews(calls).length;
    for (const value of ['W', 'We', 'Welcome']) fireEvent.change(subject, { target: { value } });
    fireEvent.change(screen.getByLabelText('HTML part'), { target: { value: '<p id="injected">Hi</p><a href="{{link}}">go</a>' } });
    await waitFor(() => expect(within(preview).getByTestId('preview-subject').textContent).toBe('WELCOME'));
    // Four keystrokes in a row, one request.
    expect(previews(calls).length - before).toBe(1);

    const frame = within(preview).getByTitle('HTML part') as HTMLIFrameElement;
    expect(frame.tagName).toBe('IFRAME');
    expect(frame.getAttribute('sandbox')).toBe('');
    expect(frame.getAttribute('srcdoc')).toBe('<p id="injected">Hi</p><a href="{{link}}">go</a>');
    expect(document.getElementById('injected')).toBeNull();
  });

  it('saves a custom template, restores a default, and shows 422 details next to their fields', async () => {
    const calls = serve(({ method, body }) => {
      const sender = (body as { senderName?: string } | undefined)?.senderName;
      if (method === 'PUT' && sender === 'Bad <name>')
        return json(422, {
          error: {
            code: 'validation_failed',
            message: 'senderName must be … (and 1 more)',
            details: [
              { field: 'senderName', code: 'invalid', message: 'must be 1 to 100 characters, without <, >' },
              { field: 'templates.verify_email.subject', code: 'unknown_variable', message: '{{nope}} is not a template variable' },
            ],
          },
        });
      return undefined;
    });
    render(<AuthSettingsPanel app={app} onChanged={() => {}} />);
    await screen.findByTestId('mail-settings');
    fireEvent.click(screen.getByRole('button', { name: 'Customise' }));
    fireEvent.change(screen.getByLabelText('Subject'), { target: { value: 'Hi {{nope}}' } });
    fireEvent.change(screen.getByLabelText('Sender name'), { target: { value: 'Bad <name>' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save mail settings' }));
    expect(await screen.findByText('must be 1 to 100 characters, without <, >')).toBeTruthy();
    expect(screen.getByText('{{nope}} is not a template variable')).toBeTruthy();
    expect(screen.getByLabelText('Subject').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByLabelText('Sender name').getAttribute('aria-describedby')).toBeTruthy();

    fireEvent.change(screen.getByLabelText('Sender name'), { target: { value: 'Acme' } });
    fireEvent.change(screen.getByLabelText('Subject'), { target: { value: 'Welcome to {{app_name}}' } });
    // The invitation's own template goes back to the built-in one.
    fireEvent.click(screen.getByRole('radio', { name: /Invitation/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Restore the default' }));
    expect((screen.getByLabelText('Subject') as HTMLInputElement).value).toBe('Invited');
    fireEvent.click(screen.getByRole('button', { name: 'Save mail settings' }));
    await screen.findByText('Mail settings saved.');
    const put = calls.filter((c) => c.method === 'PUT').at(-1);
    expect(put?.body).toEqual({
      senderName: 'Acme',
      verifyEmailUrl: 'https://acme.example/verify',
      templates: { verify_email: { ...settings.defaults.templates.verify_email, subject: 'Welcome to {{app_name}}' } },
    });
  });

  it('sends a test of the template as edited, and says where to follow it', async () => {
    const calls = serve(({ path, body }) => {
      if (!path.endsWith('/mail/test')) return undefined;
      if ((body as { to: string }).to === 'nope') return json(422, { error: { code: 'validation_failed', message: 'to must be a valid email address', details: [{ field: 'to', code: 'email', message: 'must be a valid email address' }] } });
      return json(202, { messageId: 'm1' });
    });
    render(<AuthSettingsPanel app={app} onChanged={() => {}} />);
    await screen.findByTestId('mail-settings');
    fireEvent.change(screen.getByLabelText('Send a test to'), { target: { value: 'nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send test' }));
    expect(await screen.findByText('must be a valid email address')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Send a test to'), { target: { value: 'me@example.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send test' }));
    const queued = await screen.findByText(/Queued for me@example.com/);
    expect(within(queued).getByRole('link', { name: 'E-mail log' }).getAttribute('href')).toBe('/apps/site/mail');
    expect(calls.filter((c) => c.path.endsWith('/mail/test')).at(-1)?.body).toEqual({ kind: 'verify_email', to: 'me@example.com', template: settings.defaults.templates.verify_email });
  });
});
