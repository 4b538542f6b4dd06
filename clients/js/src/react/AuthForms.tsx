import { useEffect, useId, useRef, useState, type CSSProperties, type FormEvent, type ReactNode } from 'react';

import type { InvitationInfo, User, VerifyEmailResult } from '../accounts/types.js';
import type { UsersClient } from '../client.js';
import { UsersApiError, ValidationError } from '../errors.js';
import { ACCOUNTS, describeError } from '../messages.js';
import type { ErrorDetail } from '../types.js';
import { validateEmail } from '../validate.js';
import { useAuth } from './AuthProvider.js';

export type AuthFormVariant = 'default' | 'unstyled';

/** What every account form takes. */
export interface AuthFormCommonProps {
  /** `default`: minimal inline styles. `unstyled`: class names only (`users-auth-form__…`). */
  variant?: AuthFormVariant | undefined;
  /** Added to the `<form>`'s class names. */
  className?: string | undefined;
  submitLabel?: string | undefined;
}

/** Classes every part carries, in both variants. */
export const authFormClassNames = {
  form: 'users-auth-form',
  field: 'users-auth-form__field',
  /** Holds the label and, beside it (outside the label's text), the required mark. */
  labelRow: 'users-auth-form__label-row',
  label: 'users-auth-form__label',
  required: 'users-auth-form__required',
  input: 'users-auth-form__input',
  error: 'users-auth-form__error',
  alert: 'users-auth-form__alert',
  intro: 'users-auth-form__intro',
  submit: 'users-auth-form__submit',
  success: 'users-auth-form__success',
} as const;

type Part = keyof typeof authFormClassNames;

const styles: Record<Part, CSSProperties> = {
  form: { display: 'grid', gap: '1rem', maxWidth: '28rem', fontFamily: 'inherit' },
  field: { display: 'grid', gap: '0.25rem' },
  labelRow: {},
  label: { fontWeight: 600 },
  required: { color: '#b00020', marginLeft: '0.15em' },
  input: { font: 'inherit', padding: '0.5rem 0.6rem', border: '1px solid #8a8a8a', borderRadius: '0.3rem' },
  error: { color: '#b00020', fontSize: '0.9em', margin: 0 },
  alert: { color: '#b00020', border: '1px solid #b00020', borderRadius: '0.3rem', padding: '0.6rem', margin: 0 },
  intro: { margin: 0 },
  submit: {
    font: 'inherit',
    fontWeight: 600,
    padding: '0.6rem 1rem',
    border: 0,
    borderRadius: '0.3rem',
    background: '#1f5fbf',
    color: '#fff',
    cursor: 'pointer',
    justifySelf: 'start',
  },
  success: { color: '#17602a', border: '1px solid #17602a', borderRadius: '0.3rem', padding: '0.6rem', margin: 0, maxWidth: '28rem' },
};

interface FieldSpec {
  /** The service's name for it: a 422's `details[].field` lands here. */
  name: string;
  label: string;
  type: 'email' | 'password' | 'text' | 'url';
  autoComplete: string;
  required: boolean;
  /** A `<textarea>` instead of an `<input>`. */
  multiline?: boolean;
  /** For new passwords: the service's minimum, checked before sending. */
  minLength?: number;
}

type Values = Record<string, string>;
type Problems = Record<string, string>;

/** A sentence about a failed account call, for the alert above the form. */
export function describeAuthError(error: unknown, origin?: string): string {
  if (!(error instanceof UsersApiError)) return describeError(error, origin);
  switch (error.code) {
    case 'invalid_credentials':
      return 'The email or the password is not right.';
    case 'email_taken':
      return 'An account with this email exists already. Log in instead, or reset its password.';
    case 'invalid_link':
      return 'This link no longer works (used, replaced or expired). Ask for a new one.';
    case 'email_not_verified':
      return 'Please confirm your email address first: open the link we sent you.';
    case 'login_required':
      return 'This email has an account already: log in with it, then accept the invitation.';
    case 'invitation_for_another_account':
      return 'This invitation is for another account. Log out, then open the link again.';
    case 'already_member':
      return 'You are a member of this organization already.';
    case 'organization_access_denied':
      return 'This account may not join that organization.';
    case 'validation_failed':
      return 'Please correct the marked fields.';
    default:
      return describeError(error, origin, ACCOUNTS);
  }
}

function useLook(variant: AuthFormVariant | undefined) {
  const styled = (variant ?? 'default') === 'default';
  return (part: Part) => ({ className: authFormClassNames[part], style: styled ? styles[part] : undefined });
}

/**
 * The form every account form is: labelled inputs, the service's 422 details next to their
 * fields (`aria-invalid`, `aria-describedby`), anything else in an alert above, the first
 * field at fault focused after a refused submission.
 */
function AuthForm(props: {
  fields: FieldSpec[];
  defaultSubmitLabel: string;
  common: AuthFormCommonProps;
  intro?: ReactNode;
  /** The fields' values at first (default: empty). */
  initialValues?: Values;
  /**
   * After a success: `replace` (default) shows the message instead of the form; `keep` shows it
   * under the form, values kept; `clear` does the same with the fields emptied.
   */
  afterSuccess?: 'replace' | 'keep' | 'clear';
  onSubmit: (values: Values) => Promise<ReactNode>;
}) {
  const { fields, common } = props;
  const look = useLook(common.variant);
  const idPrefix = useId();
  const afterSuccess = props.afterSuccess ?? 'replace';
  const empty = () => Object.fromEntries(fields.map((field) => [field.name, ''])) as Values;
  const [values, setValues] = useState<Values>(() => ({ ...empty(), ...props.initialValues }));
  const [problems, setProblems] = useState<Problems>({});
  const [alert, setAlert] = useState<{ text: string; details: ErrorDetail[] } | undefined>();
  const [submitting, setSubmitting] = useState(false);
  const [success, setSuccess] = useState<ReactNode>(null);
  const inputs = useRef<Record<string, HTMLInputElement | HTMLTextAreaElement | null>>({});
  const [focusFirstProblem, setFocusFirstProblem] = useState(0);

  useEffect(() => {
    if (focusFirstProblem === 0) return;
    const first = fields.find((field) => problems[field.name] !== undefined);
    if (first) inputs.current[first.name]?.focus();
    // Runs once per refused submission, with the problems it found.
  }, [focusFirstProblem]);

  if (success !== null && afterSuccess === 'replace') {
    return (
      <p {...look('success')} role="status">
        {success}
      </p>
    );
  }

  const check = (): Problems => {
    const found: Problems = {};
    for (const field of fields) {
      const value = values[field.name] ?? '';
      if (field.required && value.trim() === '') found[field.name] = 'is required';
      else if (field.type === 'email' && value !== '') {
        const problem = validateEmail(value);
        if (problem) found[field.name] = problem.message;
      } else if (field.minLength !== undefined && value !== '' && [...value].length < field.minLength) {
        found[field.name] = `must be at least ${field.minLength} characters`;
      }
    }
    return found;
  };

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const found = check();
    setProblems(found);
    setAlert(undefined);
    setSuccess(null);
    if (Object.keys(found).length > 0) {
      setFocusFirstProblem((count) => count + 1);
      return;
    }
    setSubmitting(true);
    try {
      setSuccess((await props.onSubmit(values)) ?? 'Done.');
      if (afterSuccess === 'clear') setValues(empty());
    } catch (error) {
      const placed: Problems = {};
      const unplaced: ErrorDetail[] = [];
      if (error instanceof ValidationError) {
        const names = new Set(fields.map((field) => field.name));
        for (const detail of error.details) {
          if (names.has(detail.field)) placed[detail.field] ??= detail.message;
          else unplaced.push(detail);
        }
      }
      setProblems(placed);
      const origin = typeof window === 'undefined' ? undefined : window.location.origin;
      if (!(error instanceof ValidationError) || unplaced.length > 0) {
        setAlert({ text: describeAuthError(error, origin), details: unplaced });
      }
      setFocusFirstProblem((count) => count + 1);
    } finally {
      setSubmitting(false);
    }
  };

  const formClass = [authFormClassNames.form, common.className].filter(Boolean).join(' ');
  return (
    <form className={formClass} style={look('form').style} onSubmit={(event) => void onSubmit(event)} noValidate>
      {props.intro !== undefined && <p {...look('intro')}>{props.intro}</p>}
      {alert && (
        <div {...look('alert')} role="alert">
          <p style={{ margin: 0 }}>{alert.text}</p>
          {alert.details.length > 0 && (
            <ul>
              {alert.details.map((detail) => (
                <li key={`${detail.field}:${detail.code}`}>
                  {detail.field} {detail.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {fields.map((field) => {
        const id = `${idPrefix}${field.name}`;
        const problem = problems[field.name];
        const errorId = `${id}-error`;
        const control = {
          id,
          name: field.name,
          autoComplete: field.autoComplete,
          required: field.required,
          'aria-invalid': problem !== undefined,
          'aria-describedby': problem === undefined ? undefined : errorId,
          value: values[field.name] ?? '',
        };
        const change = (value: string) => setValues((previous) => ({ ...previous, [field.name]: value }));
        return (
          <div key={field.name} {...look('field')}>
            {/* The mark stays outside the <label>: the input's name is the label's text alone. */}
            <div {...look('labelRow')}>
              <label htmlFor={id} {...look('label')}>
                {field.label}
              </label>
              {field.required && (
                <span {...look('required')} aria-hidden="true">
                  *
                </span>
              )}
            </div>
            {field.multiline ? (
              <textarea
                ref={(element) => {
                  inputs.current[field.name] = element;
                }}
                {...look('input')}
                {...control}
                rows={3}
                onChange={(event) => change(event.target.value)}
              />
            ) : (
              <input
                ref={(element) => {
                  inputs.current[field.name] = element;
                }}
                {...look('input')}
                {...control}
                type={field.type}
                minLength={field.minLength}
                onChange={(event) => change(event.target.value)}
              />
            )}
            {problem !== undefined && (
              <p id={errorId} {...look('error')}>
                {problem}
              </p>
            )}
          </div>
        );
      })}
      <button type="submit" {...look('submit')} disabled={submitting}>
        {submitting ? 'Sending…' : (common.submitLabel ?? props.defaultSubmitLabel)}
      </button>
      {success !== null && (
        <p {...look('success')} role="status">
          {success}
        </p>
      )}
    </form>
  );
}

const MIN_PASSWORD = 8;

export interface RegisterFormProps extends AuthFormCommonProps {
  /** Ask for a name too. Default `true`. */
  askName?: boolean | undefined;
  /** Join this organization (an invitation for the address, or one of its allowed domains). */
  organizationId?: string | undefined;
  /** The app's schema fields to send with the account. */
  data?: Record<string, unknown> | undefined;
  onSuccess?: ((user: User) => void) | undefined;
  successMessage?: ReactNode;
}

/** Creates an account and signs it in (`useAuth().register`). */
export function RegisterForm(props: RegisterFormProps) {
  const auth = useAuth();
  const fields: FieldSpec[] = [
    ...(props.askName === false ? [] : [{ name: 'name', label: 'Name', type: 'text', autoComplete: 'name', required: false } as const]),
    { name: 'email', label: 'Email', type: 'email', autoComplete: 'email', required: true },
    { name: 'password', label: 'Password', type: 'password', autoComplete: 'new-password', required: true, minLength: MIN_PASSWORD },
  ];
  return (
    <AuthForm
      fields={fields}
      common={props}
      defaultSubmitLabel="Create account"
      onSubmit={async (values) => {
        const user = await auth.register({
          email: values.email!.trim(),
          password: values.password!,
          name: values.name?.trim() ? values.name.trim() : undefined,
          organization_id: props.organizationId,
          data: props.data,
        });
        props.onSuccess?.(user);
        return props.successMessage ?? `Welcome! We sent a link to ${user.email} to confirm the address.`;
      }}
    />
  );
}

export interface LoginFormProps extends AuthFormCommonProps {
  /** Make this organization (one of the account's) the active one. */
  organizationId?: string | undefined;
  onSuccess?: ((user: User) => void) | undefined;
  successMessage?: ReactNode;
}

/** Signs in (`useAuth().login`). */
export function LoginForm(props: LoginFormProps) {
  const auth = useAuth();
  return (
    <AuthForm
      fields={[
        { name: 'email', label: 'Email', type: 'email', autoComplete: 'username', required: true },
        { name: 'password', label: 'Password', type: 'password', autoComplete: 'current-password', required: true },
      ]}
      common={props}
      defaultSubmitLabel="Log in"
      onSubmit={async (values) => {
        const user = await auth.login({ email: values.email!.trim(), password: values.password!, organization_id: props.organizationId });
        props.onSuccess?.(user);
        return props.successMessage ?? `Logged in as ${user.email}.`;
      }}
    />
  );
}

export interface ForgotPasswordFormProps extends AuthFormCommonProps {
  onSuccess?: (() => void) | undefined;
}

/** Asks for a reset link; the answer is the same whether or not the account exists. */
export function ForgotPasswordForm(props: ForgotPasswordFormProps) {
  const { client } = useAuth();
  return (
    <AuthForm
      fields={[{ name: 'email', label: 'Email', type: 'email', autoComplete: 'email', required: true }]}
      common={props}
      intro="Enter the address of your account: we will send it a link to choose a new password."
      defaultSubmitLabel="Send the link"
      onSubmit={async (values) => {
        const answer = await client.auth.forgotPassword(values.email!.trim());
        props.onSuccess?.();
        return answer.message;
      }}
    />
  );
}

/** `token` from the page's URL (`?token=`), as the e-mails' links carry it. */
function tokenFromLocation(): string | undefined {
  if (typeof window === 'undefined') return undefined;
  return new URLSearchParams(window.location.search).get('token') ?? undefined;
}

export interface ResetPasswordFormProps extends AuthFormCommonProps {
  /** The link's token. Default: `?token=` of the page's URL. */
  token?: string | undefined;
  onSuccess?: (() => void) | undefined;
}

/** Sets a new password with the reset link's token; every session of the account ends. */
export function ResetPasswordForm(props: ResetPasswordFormProps) {
  const { client } = useAuth();
  const token = props.token ?? tokenFromLocation();
  const look = useLook(props.variant);
  if (token === undefined || token === '') {
    return (
      <p {...look('alert')} role="alert">
        This page needs the link from the e-mail (it carries a token).
      </p>
    );
  }
  return (
    <AuthForm
      fields={[{ name: 'new_password', label: 'New password', type: 'password', autoComplete: 'new-password', required: true, minLength: MIN_PASSWORD }]}
      common={props}
      defaultSubmitLabel="Set the password"
      onSubmit={async (values) => {
        await client.auth.resetPassword({ token, new_password: values.new_password! });
        props.onSuccess?.();
        return 'Your password is set. Log in with it now.';
      }}
    />
  );
}

export interface AcceptInviteFormProps extends AuthFormCommonProps {
  /** The invitation link's token. Default: `?token=` of the page's URL. */
  token?: string | undefined;
  onSuccess?: ((user: User) => void) | undefined;
}

/**
 * Shows what the invitation is, then accepts it: a new person chooses a name and a password;
 * an existing account, signed in, accepts with one click.
 */
export function AcceptInviteForm(props: AcceptInviteFormProps) {
  const auth = useAuth();
  const token = props.token ?? tokenFromLocation();
  const look = useLook(props.variant);
  const [info, setInfo] = useState<InvitationInfo | undefined>();
  const [loadError, setLoadError] = useState<unknown>();

  useEffect(() => {
    if (token === undefined || token === '') return;
    let current = true;
    auth.client.auth.invitation(token).then(
      (loaded) => current && setInfo(loaded),
      (error: unknown) => current && setLoadError(error),
    );
    return () => {
      current = false;
    };
  }, [auth.client, token]);

  if (token === undefined || token === '') {
    return (
      <p {...look('alert')} role="alert">
        This page needs the link from the invitation e-mail (it carries a token).
      </p>
    );
  }
  if (loadError !== undefined) {
    return (
      <p {...look('alert')} role="alert">
        {describeAuthError(loadError)}
      </p>
    );
  }
  if (info === undefined) {
    return <p role="status">Loading the invitation…</p>;
  }
  if (info.status !== 'pending') {
    return (
      <p {...look('alert')} role="alert">
        {info.status === 'accepted' ? 'This invitation has been accepted already.' : 'This invitation has expired. Ask for a new one.'}
      </p>
    );
  }
  const where = info.organization_name ?? info.app_name;
  const intro = `${info.inviter ? `${info.inviter} invites you` : 'You are invited'} to join ${where} as ${info.role}${info.message ? `: “${info.message}”` : '.'}`;
  const accept = async (values: Values) => {
    const user = await auth.acceptInvite({
      token,
      password: values.password === undefined || values.password === '' ? undefined : values.password,
      name: values.name?.trim() ? values.name.trim() : undefined,
    });
    props.onSuccess?.(user);
    return `Welcome to ${where}!`;
  };

  if (info.account_exists) {
    if (auth.status !== 'signedIn') {
      return (
        <p {...look('alert')} role="alert">
          {`${intro} ${info.email} has an account already: log in with it first, then open this link again.`}
        </p>
      );
    }
    return <AuthForm fields={[]} common={props} intro={intro} defaultSubmitLabel="Accept the invitation" onSubmit={accept} />;
  }
  return (
    <AuthForm
      fields={[
        { name: 'name', label: 'Name', type: 'text', autoComplete: 'name', required: false },
        { name: 'password', label: 'Choose a password', type: 'password', autoComplete: 'new-password', required: true, minLength: MIN_PASSWORD },
      ]}
      common={props}
      intro={`${intro} Your account will be ${info.email}.`}
      defaultSubmitLabel="Accept and create my account"
      onSubmit={accept}
    />
  );
}

export interface ProfileFormProps extends AuthFormCommonProps {
  onSuccess?: ((user: User) => void) | undefined;
  /** Shown under the form once saved. Default: "Your profile is saved." */
  successMessage?: ReactNode;
}

/**
 * The signed-in account's name, bio and avatar URL (`users.update('me')`); an emptied field is
 * cleared. The provider's `user` follows. Renders nothing until an account is signed in.
 */
export function ProfileForm(props: ProfileFormProps) {
  const auth = useAuth();
  const { user } = auth;
  if (user === null) return null;
  return (
    <AuthForm
      // A new account (after a logout and another login) starts from its own values.
      key={user.id}
      fields={[
        { name: 'name', label: 'Name', type: 'text', autoComplete: 'name', required: false },
        { name: 'bio', label: 'Bio', type: 'text', autoComplete: 'off', required: false, multiline: true },
        { name: 'avatar_url', label: 'Avatar URL', type: 'url', autoComplete: 'photo', required: false },
      ]}
      initialValues={{ name: user.name ?? '', bio: user.bio ?? '', avatar_url: user.avatar_url ?? '' }}
      afterSuccess="keep"
      common={props}
      defaultSubmitLabel="Save"
      onSubmit={async (values) => {
        const given = (value: string | undefined) => (value?.trim() ? value.trim() : null);
        const saved = await auth.client.users.update('me', {
          name: given(values.name),
          bio: given(values.bio),
          avatar_url: given(values.avatar_url),
        });
        await auth.reload();
        props.onSuccess?.(saved);
        return props.successMessage ?? 'Your profile is saved.';
      }}
    />
  );
}

export interface ChangePasswordFormProps extends AuthFormCommonProps {
  onSuccess?: (() => void) | undefined;
  /** Shown under the form once changed. */
  successMessage?: ReactNode;
}

/**
 * Changes the signed-in account's password (`users.changePassword`): this session goes on,
 * every other one ends. A wrong current password is shown next to that field.
 */
export function ChangePasswordForm(props: ChangePasswordFormProps) {
  const { client } = useAuth();
  return (
    <AuthForm
      fields={[
        { name: 'current_password', label: 'Current password', type: 'password', autoComplete: 'current-password', required: true },
        { name: 'new_password', label: 'New password', type: 'password', autoComplete: 'new-password', required: true, minLength: MIN_PASSWORD },
      ]}
      afterSuccess="clear"
      common={props}
      defaultSubmitLabel="Change password"
      onSubmit={async (values) => {
        await client.users.changePassword({ current_password: values.current_password!, new_password: values.new_password! });
        props.onSuccess?.();
        return props.successMessage ?? 'Your password is changed. Your other sessions have ended.';
      }}
    />
  );
}

// A link's token works once, but React's StrictMode runs effects twice and a page may mount
// again: one request per client and token, shared by every mount that asks.
const verifications = new WeakMap<UsersClient, Map<string, Promise<VerifyEmailResult>>>();
function verifyOnce(client: UsersClient, token: string): Promise<VerifyEmailResult> {
  let byToken = verifications.get(client);
  if (byToken === undefined) {
    byToken = new Map();
    verifications.set(client, byToken);
  }
  let pending = byToken.get(token);
  if (pending === undefined) {
    pending = client.auth.verifyEmail(token);
    byToken.set(token, pending);
  }
  return pending;
}

export interface VerifyEmailProps {
  /** The verification link's token. Default: `?token=` of the page's URL. */
  token?: string | undefined;
  variant?: AuthFormVariant | undefined;
  onSuccess?: ((result: VerifyEmailResult) => void) | undefined;
  /** What to say once confirmed. Default: "Thank you: {email} is confirmed." */
  successMessage?: ((result: VerifyEmailResult) => ReactNode) | undefined;
}

/**
 * Confirms the address of the verification e-mail's link: sends its token once (StrictMode's
 * second effect run and later mounts share the first request), then says how it went. A
 * signed-in account is read again, so that `user.email_verified` follows.
 */
export function VerifyEmail(props: VerifyEmailProps) {
  const { client, reload } = useAuth();
  const token = props.token ?? tokenFromLocation();
  const look = useLook(props.variant);
  const [outcome, setOutcome] = useState<{ verified: VerifyEmailResult } | { problem: string } | undefined>();
  const onSuccess = useRef(props.onSuccess);
  onSuccess.current = props.onSuccess;

  useEffect(() => {
    if (token === undefined || token === '') return;
    let current = true;
    verifyOnce(client, token).then(
      (verified) => {
        if (!current) return;
        setOutcome({ verified });
        onSuccess.current?.(verified);
        void reload();
      },
      (error: unknown) => {
        if (current) setOutcome({ problem: describeAuthError(error, typeof window === 'undefined' ? undefined : window.location.origin) });
      },
    );
    return () => {
      current = false;
    };
  }, [client, token, reload]);

  if (token === undefined || token === '') {
    return (
      <p {...look('alert')} role="alert">
        This page needs the link from the e-mail (it carries a token).
      </p>
    );
  }
  if (outcome === undefined) return <p role="status">Confirming your address…</p>;
  if ('problem' in outcome) {
    return (
      <p {...look('alert')} role="alert">
        {outcome.problem}
      </p>
    );
  }
  return (
    <p {...look('success')} role="status">
      {props.successMessage?.(outcome.verified) ?? `Thank you: ${outcome.verified.email} is confirmed.`}
    </p>
  );
}
