import { useCallback, useEffect, useRef, useState } from 'react';

import type { UsersClient } from '../client.js';
import { mapErrorDetails } from '../details.js';
import { UsersApiError } from '../errors.js';
import type { ErrorDetail, Field, FieldValue, Schema, SubmitResult } from '../types.js';
import { validateEmail, validateField, type FieldError, type FieldErrors } from '../validate.js';

/** What a form control holds: the text typed (text, number, select, date) or a tick. */
export type FormInput = string | boolean;

export interface UseUsersFormOptions {
  /** From `createUsersClient`; create it once (module scope or `useMemo`), not at every render. */
  client: Pick<UsersClient, 'getSchema' | 'submit'>;
  /** The app's `honeypotField`: a hidden input people leave empty and bots fill. */
  honeypotField?: string | undefined;
  onSuccess?: ((result: SubmitResult) => void) | undefined;
}

export type UsersFormStatus = 'loading' | 'loadFailed' | 'ready' | 'submitting' | 'succeeded';

export interface SetValueOptions {
  /**
   * The browser holds text it cannot read as a number or date (`input.validity.badInput`):
   * its `value` is then `""`, which would otherwise pass as "not answered".
   */
  unparsable?: boolean;
}

export interface UsersFormState {
  status: UsersFormStatus;
  schema: Schema | undefined;
  /** Why the schema could not be loaded (`status === 'loadFailed'`). */
  loadError: UsersApiError | undefined;
  email: string;
  /** Form inputs by schema key. */
  values: Record<string, FormInput>;
  honeypot: string;
  /** Errors by field: `email` or a schema key. */
  errors: FieldErrors;
  /** The last failed submission, when the failure is not (only) about fields. */
  submitError: UsersApiError | undefined;
  /** Server-reported problems that belong to no field of the form. */
  unplacedDetails: ErrorDetail[];
  result: SubmitResult | undefined;
  setEmail(email: string): void;
  setValue(key: string, value: FormInput, options?: SetValueOptions): void;
  setHoneypot(value: string): void;
  /** Checks one field now (e.g. on blur) and shows or clears its error. */
  touch(key: string): void;
  /** Checks everything; submits when all passes. Resolves to the result, or `undefined`. */
  submit(): Promise<SubmitResult | undefined>;
  /** Loads the schema again (after `loadFailed`). */
  reload(): void;
  /** Back to an empty form, e.g. to let someone else sign up after a success. */
  reset(): void;
}

/** Loads the app's schema, holds the form's values, checks them as the service does, submits. */
export function useUsersForm({ client, honeypotField, onSuccess }: UseUsersFormOptions): UsersFormState {
  const [status, setStatus] = useState<UsersFormStatus>('loading');
  const [schema, setSchema] = useState<Schema | undefined>(undefined);
  const [loadError, setLoadError] = useState<UsersApiError | undefined>(undefined);
  const [loadCount, setLoadCount] = useState(0);
  const [email, setEmailState] = useState('');
  const [values, setValues] = useState<Record<string, FormInput>>({});
  const [unparsable, setUnparsable] = useState<ReadonlySet<string>>(new Set());
  const [honeypot, setHoneypot] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [submitError, setSubmitError] = useState<UsersApiError | undefined>(undefined);
  const [unplacedDetails, setUnplacedDetails] = useState<ErrorDetail[]>([]);
  const [result, setResult] = useState<SubmitResult | undefined>(undefined);
  const onSuccessRef = useRef(onSuccess);
  onSuccessRef.current = onSuccess;

  useEffect(() => {
    let current = true;
    setStatus('loading');
    setLoadError(undefined);
    client.getSchema().then(
      (loaded) => {
        if (!current) return;
        setSchema(loaded);
        setValues(initialValues(loaded.fields));
        setStatus('ready');
      },
      (error: unknown) => {
        if (!current) return;
        setLoadError(asUsersApiError(error));
        setStatus('loadFailed');
      },
    );
    return () => {
      current = false;
    };
  }, [client, loadCount]);

  const fields = schema?.fields ?? [];

  const errorOf = (key: string, nextEmail: string, nextValues: Record<string, FormInput>, bad: ReadonlySet<string>) => {
    if (key === 'email') return validateEmail(nextEmail);
    const field = fields.find((candidate) => candidate.key === key);
    return field ? checkInput(field, nextValues[field.key], bad.has(field.key)) : undefined;
  };

  const showError = (key: string, error: FieldError | undefined) =>
    setErrors((previous) => {
      if (error === undefined && !(key in previous)) return previous;
      const next = { ...previous };
      if (error === undefined) delete next[key];
      else next[key] = error;
      return next;
    });

  const setEmail = (next: string) => {
    setEmailState(next);
    // Once a field shows an error, it follows the typing, so the error goes as soon as it is fixed.
    if (errors.email) showError('email', validateEmail(next));
  };

  const setValue = (key: string, value: FormInput, options?: SetValueOptions) => {
    const nextValues = { ...values, [key]: value };
    const nextBad = new Set(unparsable);
    if (options?.unparsable) nextBad.add(key);
    else nextBad.delete(key);
    setValues(nextValues);
    setUnparsable(nextBad);
    if (errors[key]) showError(key, errorOf(key, email, nextValues, nextBad));
  };

  const touch = (key: string) => showError(key, errorOf(key, email, values, unparsable));

  const submit = async (): Promise<SubmitResult | undefined> => {
    if (!schema || status === 'submitting') return undefined;
    const found: FieldErrors = {};
    const emailError = validateEmail(email);
    if (emailError) found.email = emailError;
    const data: Record<string, FieldValue> = {};
    for (const field of schema.fields) {
      const error = checkInput(field, values[field.key], unparsable.has(field.key));
      if (error) found[field.key] = error;
      const value = toFieldValue(field, values[field.key]);
      // Unanswered optional fields are left out: the service would drop them anyway.
      if (value !== null && value !== '') data[field.key] = value;
    }
    setErrors(found);
    setSubmitError(undefined);
    setUnplacedDetails([]);
    if (Object.keys(found).length > 0) return undefined;
    if (honeypotField && honeypot !== '') data[honeypotField] = honeypot;

    setStatus('submitting');
    try {
      const submitted = await client.submit({ email: email.trim(), data });
      setResult(submitted);
      setStatus('succeeded');
      onSuccessRef.current?.(submitted);
      return submitted;
    } catch (caught) {
      const error = asUsersApiError(caught);
      const { fieldErrors, unplaced } = mapErrorDetails(error.details, schema.fields.map((field) => field.key));
      setErrors(fieldErrors);
      setUnplacedDetails(unplaced);
      setSubmitError(error);
      setStatus('ready');
      return undefined;
    }
  };

  const reload = useCallback(() => setLoadCount((count) => count + 1), []);

  const reset = () => {
    setEmailState('');
    setValues(schema ? initialValues(schema.fields) : {});
    setUnparsable(new Set());
    setHoneypot('');
    setErrors({});
    setSubmitError(undefined);
    setUnplacedDetails([]);
    setResult(undefined);
    if (schema) setStatus('ready');
  };

  return {
    status,
    schema,
    loadError,
    email,
    values,
    honeypot,
    errors,
    submitError,
    unplacedDetails,
    result,
    setEmail,
    setValue,
    setHoneypot,
    touch,
    submit,
    reload,
    reset,
  };
}

function initialValues(fields: readonly Field[]): Record<string, FormInput> {
  return Object.fromEntries(fields.map((field) => [field.key, field.kind === 'checkbox' ? false : '']));
}

/** A form input as the JSON value the service expects: numbers as numbers, ticks as booleans. */
export function toFieldValue(field: Field, input: FormInput | undefined): FieldValue {
  if (field.kind === 'checkbox') return input === true;
  if (typeof input !== 'string' || input === '') return null;
  if (field.kind === 'number') return parseDecimal(input);
  return input;
}

function parseDecimal(text: string): number {
  const trimmed = text.trim();
  return /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(trimmed) ? Number(trimmed) : Number.NaN;
}

function checkInput(field: Field, input: FormInput | undefined, unparsable: boolean): FieldError | undefined {
  if (unparsable && field.kind === 'number') return { code: 'type', message: 'must be a number' };
  if (unparsable && field.kind === 'date') return { code: 'date', message: 'must be a real date written YYYY-MM-DD' };
  return validateField(field, toFieldValue(field, input));
}

function asUsersApiError(error: unknown): UsersApiError {
  if (error instanceof UsersApiError) return error;
  return new UsersApiError({
    status: 0,
    code: 'client_error',
    message: error instanceof Error ? error.message : String(error),
    cause: error,
  });
}
