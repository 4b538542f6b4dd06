// @vitest-environment jsdom
import { act, cleanup, render, renderHook, screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { UsersApiError, type Schema, type SubmitResult, type UsersClient } from '../src/index.js';
import { UsersForm, useUsersForm } from '../src/react/index.js';
import { exampleSchema } from './helpers.js';

afterEach(cleanup);

const stored: SubmitResult = { id: '0190f5b2-7c4e-7d2a-9a53-3f1c2b8e4d11', createdAt: '2025-01-02T03:04:05.678Z', updatedAt: '2025-01-02T03:04:05.678Z' };

function fakeClient(schema: Schema = exampleSchema) {
  return {
    getSchema: vi.fn<UsersClient['getSchema']>().mockResolvedValue(schema),
    submit: vi.fn<UsersClient['submit']>().mockResolvedValue(stored),
  };
}

const validationFailed = () =>
  new UsersApiError({
    status: 422,
    code: 'validation_failed',
    message: 'data.age must be at most 120',
    details: [
      { field: 'email', code: 'email', message: 'must be a valid email address' },
      { field: 'data.age', code: 'max', message: 'must be at most 120' },
      { field: 'data.nickname', code: 'unknown', message: 'is not a field of this form' },
    ],
  });

async function fillValidForm(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText(/^Email/), 'ada@example.com');
  await user.type(screen.getByLabelText(/^Full name/), 'Ada Lovelace');
  await user.type(screen.getByLabelText(/^Age/), '36');
  await user.selectOptions(screen.getByLabelText(/^Plan/), 'pro');
  await user.type(screen.getByLabelText(/^Birthday/), '1990-12-10');
  await user.click(screen.getByLabelText(/^I agree to the terms/));
}

describe('UsersForm', () => {
  it('renders an email input and one control per field, of the right kind, with labels and required marks', async () => {
    render(<UsersForm client={fakeClient()} />);

    const email = await screen.findByLabelText(/^Email/);
    expect(email).toHaveProperty('type', 'email');
    expect(screen.getByLabelText(/^Full name/)).toHaveProperty('type', 'text');
    const age = screen.getByLabelText(/^Age/);
    expect(age).toHaveProperty('type', 'number');
    expect(age.getAttribute('min')).toBe('13');
    expect(age.getAttribute('max')).toBe('120');
    expect(age.getAttribute('step')).toBe('1');
    const plan = screen.getByLabelText(/^Plan/);
    expect(plan.tagName).toBe('SELECT');
    expect(within(plan).getAllByRole('option').map((option) => option.getAttribute('value'))).toEqual(['', 'free', 'pro']);
    const birthday = screen.getByLabelText(/^Birthday/);
    expect(birthday).toHaveProperty('type', 'date');
    expect(birthday.getAttribute('min')).toBe('1900-01-01');
    expect(screen.getByLabelText(/^I agree to the terms/)).toHaveProperty('type', 'checkbox');
    expect(screen.getByLabelText(/^Send me news/)).toHaveProperty('type', 'checkbox');

    const requiredMarked = (label: RegExp) =>
      screen.getByText(label, { selector: 'label' }).querySelector('.users-form__required[aria-hidden="true"]') !== null;
    expect(requiredMarked(/^Email/)).toBe(true);
    expect(requiredMarked(/^Full name/)).toBe(true);
    expect(requiredMarked(/^Plan/)).toBe(true);
    expect(requiredMarked(/^I agree/)).toBe(true);
    expect(requiredMarked(/^Age/)).toBe(false);
    expect(requiredMarked(/^Send me news/)).toBe(false);
  });

  it('renders the honeypot out of sight, out of the tab order and out of the accessibility tree', async () => {
    const { container } = render(<UsersForm client={fakeClient()} honeypotField="website" />);
    await screen.findByLabelText(/^Email/);

    const honeypot = container.querySelector<HTMLInputElement>('input[name="website"]');
    expect(honeypot).not.toBeNull();
    expect(honeypot!.tabIndex).toBe(-1);
    expect(honeypot!.getAttribute('autocomplete')).toBe('off');
    expect(honeypot!.getAttribute('aria-hidden')).toBe('true');
    const wrapper = honeypot!.closest('.users-form__honeypot') as HTMLElement;
    expect(wrapper.getAttribute('aria-hidden')).toBe('true');
    expect(wrapper.style.position).toBe('absolute');
    expect(wrapper.style.left).toBe('-10000px');
    expect(wrapper.style.overflow).toBe('hidden');
    // Not offered to assistive technology: every textbox it lists is a real field.
    const names = screen.getAllByRole('textbox').map((box) => box.getAttribute('name'));
    expect(names).not.toContain('website');
  });

  it('shows the service rules as field errors, tied to the field, without sending', async () => {
    const client = fakeClient();
    const user = userEvent.setup();
    render(<UsersForm client={client} />);
    await screen.findByLabelText(/^Email/);

    await user.type(screen.getByLabelText(/^Email/), 'not-an-email');
    await user.type(screen.getByLabelText(/^Full name/), 'A');
    await user.type(screen.getByLabelText(/^Age/), '200');
    await user.click(screen.getByRole('button', { name: 'Sign up' }));

    const expectError = (label: RegExp, message: string) => {
      const control = screen.getByLabelText(label);
      expect(control.getAttribute('aria-invalid')).toBe('true');
      const errorId = control.getAttribute('aria-describedby');
      expect(errorId).toBeTruthy();
      expect(document.getElementById(errorId!)?.textContent).toBe(message);
    };
    expectError(/^Email/, 'must be a valid email address');
    expectError(/^Full name/, 'must be at least 2 characters');
    expectError(/^Age/, 'must be at most 120');
    expectError(/^Plan/, 'is required');
    expectError(/^I agree/, 'must be checked');
    expect(screen.getByLabelText(/^Birthday/).getAttribute('aria-invalid')).toBe('false');
    expect(client.submit).not.toHaveBeenCalled();

    // The error follows the typing once shown, and leaves when the value is fixed.
    await user.clear(screen.getByLabelText(/^Age/));
    await user.type(screen.getByLabelText(/^Age/), '36');
    expect(screen.getByLabelText(/^Age/).getAttribute('aria-invalid')).toBe('false');
    expect(screen.getByLabelText(/^Age/).getAttribute('aria-describedby')).toBeNull();
  });

  it('sends typed data, leaves out unanswered fields, and shows the success message', async () => {
    const client = fakeClient();
    const onSuccess = vi.fn();
    const user = userEvent.setup();
    render(<UsersForm client={client} honeypotField="website" onSuccess={onSuccess} successMessage="Welcome aboard!" />);
    await screen.findByLabelText(/^Email/);

    await fillValidForm(user);
    await user.click(screen.getByRole('button', { name: 'Sign up' }));

    expect(await screen.findByText('Welcome aboard!')).toBeTruthy();
    expect(client.submit).toHaveBeenCalledTimes(1);
    expect(client.submit).toHaveBeenCalledWith({
      email: 'ada@example.com',
      data: { fullName: 'Ada Lovelace', age: 36, plan: 'pro', birthday: '1990-12-10', consentRequired: true, consentOptional: false },
    });
    expect(onSuccess).toHaveBeenCalledWith(stored);
  });

  it('sends a filled honeypot so the service can drop the submission', async () => {
    const client = fakeClient();
    const user = userEvent.setup();
    const { container } = render(<UsersForm client={client} honeypotField="website" />);
    await screen.findByLabelText(/^Email/);

    await fillValidForm(user);
    await user.type(container.querySelector<HTMLInputElement>('input[name="website"]')!, 'http://spam.example');
    await user.click(screen.getByRole('button', { name: 'Sign up' }));

    await screen.findByText(/signed up/);
    expect(client.submit.mock.calls[0]![0].data.website).toBe('http://spam.example');
  });

  it('places the service field errors next to their fields and the rest above the form', async () => {
    const client = fakeClient();
    client.submit.mockRejectedValue(validationFailed());
    const user = userEvent.setup();
    render(<UsersForm client={client} />);
    await screen.findByLabelText(/^Email/);

    await fillValidForm(user);
    await user.click(screen.getByRole('button', { name: 'Sign up' }));

    const age = screen.getByLabelText(/^Age/);
    await waitFor(() => expect(age.getAttribute('aria-invalid')).toBe('true'));
    expect(document.getElementById(age.getAttribute('aria-describedby')!)?.textContent).toBe('must be at most 120');
    const email = screen.getByLabelText(/^Email/);
    expect(document.getElementById(email.getAttribute('aria-describedby')!)?.textContent).toBe('must be a valid email address');
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('data.nickname is not a field of this form');
  });

  it('explains an error that is not about fields', async () => {
    const client = fakeClient();
    client.submit.mockRejectedValue(new UsersApiError({ status: 429, code: 'rate_limited', message: 'Too many requests', retryAfterSeconds: 30 }));
    const user = userEvent.setup();
    render(<UsersForm client={client} />);
    await screen.findByLabelText(/^Email/);

    await fillValidForm(user);
    await user.click(screen.getByRole('button', { name: 'Sign up' }));

    expect((await screen.findByRole('alert')).textContent).toBe('Too many attempts. Please wait 30 seconds and try again.');
    expect(screen.getByRole('button', { name: 'Sign up' })).toBeTruthy();
  });

  it('names the allowed-origins setting when the schema cannot be loaded, and can try again', async () => {
    const client = fakeClient();
    client.getSchema.mockRejectedValueOnce(new UsersApiError({ status: 0, code: 'network_error', message: 'Failed to fetch' }));
    const user = userEvent.setup();
    render(<UsersForm client={client} />);

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain("allowed origins");
    expect(alert.textContent).toContain(window.location.origin);

    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByLabelText(/^Email/)).toBeTruthy();
    expect(client.getSchema).toHaveBeenCalledTimes(2);
  });

  it('carries class names only in the unstyled variant', async () => {
    const { container } = render(<UsersForm client={fakeClient()} variant="unstyled" honeypotField="website" className="mine" />);
    await screen.findByLabelText(/^Email/);

    const form = container.querySelector('form')!;
    expect(form.className).toBe('users-form mine');
    const styled = [...container.querySelectorAll('[style]')].filter((element) => !element.classList.contains('users-form__honeypot'));
    expect(styled).toEqual([]);
    expect(container.querySelectorAll('.users-form__field')).toHaveLength(exampleSchema.fields.length + 1);
  });

  it('styles the default variant inline', async () => {
    const { container } = render(<UsersForm client={fakeClient()} />);
    await screen.findByLabelText(/^Email/);

    expect(container.querySelector('form')!.getAttribute('style')).toContain('display: grid');
    expect(container.querySelector<HTMLElement>('.users-form__submit')!.style.background).not.toBe('');
  });
});

describe('useUsersForm', () => {
  it('loads the schema and starts every field unanswered', async () => {
    const client = fakeClient();
    const { result } = renderHook(() => useUsersForm({ client }));

    expect(result.current.status).toBe('loading');
    await waitFor(() => expect(result.current.status).toBe('ready'));
    expect(result.current.schema).toEqual(exampleSchema);
    expect(result.current.values).toEqual({ fullName: '', age: '', plan: '', birthday: '', consentRequired: false, consentOptional: false });
  });

  it('maps the service details to fields: data.<key> to the key, email to email', async () => {
    const client = fakeClient();
    client.submit.mockRejectedValue(validationFailed());
    const { result } = renderHook(() => useUsersForm({ client }));
    await waitFor(() => expect(result.current.status).toBe('ready'));

    act(() => result.current.setEmail('ada@example.com'));
    act(() => result.current.setValue('fullName', 'Ada'));
    act(() => result.current.setValue('plan', 'free'));
    act(() => result.current.setValue('consentRequired', true));
    let returned: SubmitResult | undefined = stored;
    await act(async () => {
      returned = await result.current.submit();
    });

    expect(returned).toBeUndefined();
    expect(result.current.errors).toEqual({
      email: { code: 'email', message: 'must be a valid email address' },
      age: { code: 'max', message: 'must be at most 120' },
    });
    expect(result.current.unplacedDetails).toEqual([{ field: 'data.nickname', code: 'unknown', message: 'is not a field of this form' }]);
    expect(result.current.submitError?.code).toBe('validation_failed');
    expect(result.current.status).toBe('ready');
  });

  it('marks input the browser could not read as a number or date', async () => {
    const client = fakeClient();
    const { result } = renderHook(() => useUsersForm({ client }));
    await waitFor(() => expect(result.current.status).toBe('ready'));

    act(() => result.current.setValue('age', '', { unparsable: true }));
    act(() => result.current.setValue('birthday', '', { unparsable: true }));
    act(() => result.current.touch('age'));
    act(() => result.current.touch('birthday'));

    expect(result.current.errors.age).toEqual({ code: 'type', message: 'must be a number' });
    expect(result.current.errors.birthday).toEqual({ code: 'date', message: 'must be a real date written YYYY-MM-DD' });
  });

  it('reports a schema that cannot be loaded', async () => {
    const client = fakeClient();
    client.getSchema.mockRejectedValue(new UsersApiError({ status: 404, code: 'unknown_app', message: 'No app has this id' }));
    const { result } = renderHook(() => useUsersForm({ client }));

    await waitFor(() => expect(result.current.status).toBe('loadFailed'));
    expect(result.current.loadError?.code).toBe('unknown_app');
  });
});
