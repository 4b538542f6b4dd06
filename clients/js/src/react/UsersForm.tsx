import { useId, type CSSProperties, type FormEvent, type ReactNode } from 'react';

import type { UsersClient } from '../client.js';
import { describeError } from '../messages.js';
import type { Field, SubmitResult } from '../types.js';
import type { FieldError } from '../validate.js';
import { useUsersForm, type UsersFormState } from './useUsersForm.js';

export type UsersFormVariant = 'default' | 'unstyled';

export interface UsersFormProps {
  /** From `createUsersClient`; create it once (module scope or `useMemo`), not at every render. */
  client: Pick<UsersClient, 'getSchema' | 'submit'>;
  /** The app's `honeypotField`, if it has one: rendered as an input people never see. */
  honeypotField?: string | undefined;
  /** `default`: minimal inline styles. `unstyled`: class names only (`users-form__…`). */
  variant?: UsersFormVariant | undefined;
  onSuccess?: ((result: SubmitResult) => void) | undefined;
  /** Label of the email input. Default `Email`. */
  emailLabel?: string | undefined;
  submitLabel?: string | undefined;
  /** Shown in place of the form once the service has accepted a submission. */
  successMessage?: ReactNode;
  /** Added to the `<form>`'s class names. */
  className?: string | undefined;
}

/** Classes every part carries, in both variants, to style or to select in tests. */
export const usersFormClassNames = {
  form: 'users-form',
  field: 'users-form__field',
  label: 'users-form__label',
  required: 'users-form__required',
  input: 'users-form__input',
  checkbox: 'users-form__checkbox',
  error: 'users-form__error',
  alert: 'users-form__alert',
  submit: 'users-form__submit',
  success: 'users-form__success',
  honeypot: 'users-form__honeypot',
  loading: 'users-form__loading',
} as const;

const styles: Record<keyof typeof usersFormClassNames, CSSProperties> = {
  form: { display: 'grid', gap: '1rem', maxWidth: '28rem', fontFamily: 'inherit' },
  field: { display: 'grid', gap: '0.25rem' },
  label: { fontWeight: 600 },
  required: { color: '#b00020', marginLeft: '0.15em' },
  input: { font: 'inherit', padding: '0.5rem 0.6rem', border: '1px solid #8a8a8a', borderRadius: '0.3rem' },
  checkbox: { display: 'flex', gap: '0.5rem', alignItems: 'flex-start' },
  error: { color: '#b00020', fontSize: '0.9em', margin: 0 },
  alert: { color: '#b00020', border: '1px solid #b00020', borderRadius: '0.3rem', padding: '0.6rem', margin: 0 },
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
  honeypot: {},
  loading: { margin: 0 },
};

// Off-screen rather than display:none, which some bots recognise; kept in both variants.
const visuallyHidden: CSSProperties = {
  position: 'absolute',
  left: '-10000px',
  top: 'auto',
  width: '1px',
  height: '1px',
  overflow: 'hidden',
};

/**
 * A sign-up form built from the app's schema: an email input and one control per field, with
 * the service's checks run before sending and its answers shown next to the fields.
 */
export function UsersForm(props: UsersFormProps) {
  const form = useUsersForm({ client: props.client, honeypotField: props.honeypotField, onSuccess: props.onSuccess });
  const idPrefix = useId();
  const styled = (props.variant ?? 'default') === 'default';
  const look = (part: keyof typeof usersFormClassNames) => ({
    className: usersFormClassNames[part],
    style: styled ? styles[part] : undefined,
  });
  const origin = typeof window === 'undefined' ? undefined : window.location.origin;
  const formClass = [usersFormClassNames.form, props.className].filter(Boolean).join(' ');

  if (form.status === 'loading') {
    return (
      <p {...look('loading')} role="status">
        Loading the form…
      </p>
    );
  }
  if (form.status === 'loadFailed' || !form.schema) {
    return (
      <div className={formClass} style={styled ? styles.form : undefined}>
        <p {...look('alert')} role="alert">
          {describeError(form.loadError, origin)}
        </p>
        <button type="button" {...look('submit')} onClick={form.reload}>
          Try again
        </button>
      </div>
    );
  }
  if (form.status === 'succeeded') {
    return (
      <p {...look('success')} role="status">
        {props.successMessage ?? 'Thank you! You are signed up.'}
      </p>
    );
  }

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    void form.submit();
  };
  const showAlert = form.submitError !== undefined && (form.submitError.code !== 'validation_failed' || form.unplacedDetails.length > 0);

  return (
    <form className={formClass} style={styled ? styles.form : undefined} onSubmit={onSubmit} noValidate>
      {showAlert && (
        <div {...look('alert')} role="alert">
          <p style={{ margin: 0 }}>{describeError(form.submitError, origin)}</p>
          {form.unplacedDetails.length > 0 && (
            <ul>
              {form.unplacedDetails.map((detail) => (
                <li key={`${detail.field}:${detail.code}`}>
                  {detail.field} {detail.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <FieldRow id={`${idPrefix}email`} label={props.emailLabel ?? 'Email'} required error={form.errors.email} look={look}>
        {(control) => (
          <input
            {...control}
            {...look('input')}
            type="email"
            name="email"
            autoComplete="email"
            value={form.email}
            onChange={(event) => form.setEmail(event.target.value)}
            onBlur={() => form.touch('email')}
          />
        )}
      </FieldRow>
      {form.schema.fields.map((field) => (
        <SchemaField key={field.key} field={field} form={form} id={`${idPrefix}${field.key}`} look={look} />
      ))}
      {props.honeypotField && (
        <div className={usersFormClassNames.honeypot} style={visuallyHidden} aria-hidden="true">
          <label htmlFor={`${idPrefix}honeypot`}>Leave this field empty</label>
          <input
            id={`${idPrefix}honeypot`}
            type="text"
            name={props.honeypotField}
            tabIndex={-1}
            autoComplete="off"
            aria-hidden="true"
            value={form.honeypot}
            onChange={(event) => form.setHoneypot(event.target.value)}
          />
        </div>
      )}
      <button type="submit" {...look('submit')} disabled={form.status === 'submitting'}>
        {form.status === 'submitting' ? 'Sending…' : (props.submitLabel ?? 'Sign up')}
      </button>
    </form>
  );
}

type Look = (part: keyof typeof usersFormClassNames) => { className: string; style: CSSProperties | undefined };

interface ControlProps {
  id: string;
  required: boolean;
  'aria-invalid': boolean;
  'aria-describedby': string | undefined;
}

function FieldRow(props: {
  id: string;
  label: string;
  required: boolean;
  error: FieldError | undefined;
  look: Look;
  checkbox?: boolean;
  children: (control: ControlProps) => ReactNode;
}) {
  const errorId = `${props.id}-error`;
  const control: ControlProps = {
    id: props.id,
    required: props.required,
    'aria-invalid': props.error !== undefined,
    'aria-describedby': props.error ? errorId : undefined,
  };
  const label = (
    <label htmlFor={props.id} {...props.look('label')}>
      {props.label}
      {props.required && (
        <span {...props.look('required')} aria-hidden="true">
          *
        </span>
      )}
    </label>
  );
  return (
    <div {...props.look('field')}>
      {props.checkbox ? (
        <div {...props.look('checkbox')}>
          {props.children(control)}
          {label}
        </div>
      ) : (
        <>
          {label}
          {props.children(control)}
        </>
      )}
      {props.error && (
        <p id={errorId} {...props.look('error')}>
          {props.error.message}
        </p>
      )}
    </div>
  );
}

function SchemaField({ field, form, id, look }: { field: Field; form: UsersFormState; id: string; look: Look }) {
  const value = form.values[field.key];
  const text = typeof value === 'string' ? value : '';
  const row = { id, label: field.label, required: field.required, error: form.errors[field.key], look };
  const onBlur = () => form.touch(field.key);

  switch (field.kind) {
    case 'text':
      return (
        <FieldRow {...row}>
          {(control) => (
            <input
              {...control}
              {...look('input')}
              type="text"
              name={field.key}
              value={text}
              onChange={(event) => form.setValue(field.key, event.target.value)}
              onBlur={onBlur}
            />
          )}
        </FieldRow>
      );
    case 'number':
      return (
        <FieldRow {...row}>
          {(control) => (
            <input
              {...control}
              {...look('input')}
              type="number"
              name={field.key}
              inputMode={field.integer ? 'numeric' : 'decimal'}
              min={field.min}
              max={field.max}
              step={field.integer ? 1 : 'any'}
              value={text}
              onChange={(event) =>
                form.setValue(field.key, event.target.value, { unparsable: event.target.validity.badInput })
              }
              onBlur={onBlur}
            />
          )}
        </FieldRow>
      );
    case 'select':
      return (
        <FieldRow {...row}>
          {(control) => (
            <select
              {...control}
              {...look('input')}
              name={field.key}
              value={text}
              onChange={(event) => form.setValue(field.key, event.target.value)}
              onBlur={onBlur}
            >
              <option value="">Choose…</option>
              {field.enum.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          )}
        </FieldRow>
      );
    case 'date':
      return (
        <FieldRow {...row}>
          {(control) => (
            <input
              {...control}
              {...look('input')}
              type="date"
              name={field.key}
              min={field.min}
              max={field.max}
              value={text}
              onChange={(event) =>
                form.setValue(field.key, event.target.value, { unparsable: event.target.validity.badInput })
              }
              onBlur={onBlur}
            />
          )}
        </FieldRow>
      );
    case 'checkbox':
      return (
        <FieldRow {...row} checkbox>
          {(control) => (
            <input
              {...control}
              className={usersFormClassNames.input}
              type="checkbox"
              name={field.key}
              checked={value === true}
              onChange={(event) => form.setValue(field.key, event.target.checked)}
              onBlur={onBlur}
            />
          )}
        </FieldRow>
      );
  }
}
