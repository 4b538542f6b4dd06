import type { Field, FieldValue, Schema } from './types.js';

/**
 * The service's checks, repeated in the browser so a visitor learns of a mistake before the
 * request is sent. Codes and messages are the service's own. The service stays the judge: a
 * rule this code cannot apply (a regex written in syntax JavaScript does not know) is left
 * to it.
 */
export interface FieldError {
  /** `required`, `email`, `type`, `minLength`, `maxLength`, `regex`, `min`, `max`, `enum`, `date`. */
  code: string;
  message: string;
}

/** Errors by form field: `email` for the address, the schema key for a data field. */
export type FieldErrors = Record<string, FieldError>;

/** `null` and `""` mean "not answered", exactly as on the service. */
export function isUnanswered(value: FieldValue | undefined): value is null | undefined | '' {
  return value === undefined || value === null || value === '';
}

const MAX_EMAIL_CHARS = 254;
// The HTML5 rule for <input type=email> (what the service applies), with internationalized
// domain labels allowed as the service allows them.
const EMAIL_LOCAL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$/;
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

/** Checks an email address as the service does after trimming it. */
export function validateEmail(email: string | null | undefined): FieldError | undefined {
  const text = (email ?? '').trim();
  if (text === '') return { code: 'required', message: 'is required' };
  const at = text.lastIndexOf('@');
  const local = text.slice(0, at);
  const domain = text.slice(at + 1);
  const valid =
    at > 0 &&
    [...text].length <= MAX_EMAIL_CHARS &&
    EMAIL_LOCAL.test(local) &&
    domain.split('.').every((label) => DOMAIN_LABEL.test(label));
  return valid ? undefined : { code: 'email', message: 'must be a valid email address' };
}

/** Checks one field's value; `undefined` when it passes. */
export function validateField(field: Field, value: FieldValue | undefined): FieldError | undefined {
  if (isUnanswered(value)) {
    return field.required ? { code: 'required', message: 'is required' } : undefined;
  }
  switch (field.kind) {
    case 'text': {
      if (typeof value !== 'string') return { code: 'type', message: 'must be a string' };
      // Unicode code points, as the service counts (an emoji is one, not two UTF-16 units).
      const length = [...value].length;
      if (field.minLength !== undefined && length < field.minLength) {
        return { code: 'minLength', message: `must be at least ${field.minLength} characters` };
      }
      if (field.maxLength !== undefined && length > field.maxLength) {
        return { code: 'maxLength', message: `must be at most ${field.maxLength} characters` };
      }
      if (field.regex !== undefined) {
        const pattern = compilePattern(field.regex);
        if (pattern !== undefined && !pattern.test(value)) {
          return { code: 'regex', message: 'does not have the expected format' };
        }
      }
      return undefined;
    }
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return { code: 'type', message: 'must be a number' };
      if (field.integer === true && !Number.isInteger(value)) {
        return { code: 'type', message: 'must be a whole number' };
      }
      if (field.min !== undefined && value < field.min) return { code: 'min', message: `must be at least ${field.min}` };
      if (field.max !== undefined && value > field.max) return { code: 'max', message: `must be at most ${field.max}` };
      return undefined;
    }
    case 'select': {
      if (typeof value !== 'string') return { code: 'type', message: 'must be a string' };
      return field.enum.includes(value)
        ? undefined
        : { code: 'enum', message: `must be one of: ${field.enum.join(', ')}` };
    }
    case 'date': {
      if (typeof value !== 'string') return { code: 'type', message: 'must be a date string' };
      if (!isCalendarDate(value)) return { code: 'date', message: 'must be a real date written YYYY-MM-DD' };
      // YYYY-MM-DD with four-digit years sorts as text in calendar order.
      if (field.min !== undefined && value < field.min) return { code: 'min', message: `must be on or after ${field.min}` };
      if (field.max !== undefined && value > field.max) return { code: 'max', message: `must be on or before ${field.max}` };
      return undefined;
    }
    case 'checkbox': {
      if (typeof value !== 'boolean') return { code: 'type', message: 'must be true or false' };
      return field.required && !value ? { code: 'required', message: 'must be checked' } : undefined;
    }
  }
}

/** Checks a whole submission; the result is empty when every field passes. */
export function validateSubmission(
  schema: Pick<Schema, 'fields'>,
  submission: { email: string | null | undefined; data: Record<string, FieldValue | undefined> },
): FieldErrors {
  const errors: FieldErrors = {};
  const emailError = validateEmail(submission.email);
  if (emailError) errors.email = emailError;
  for (const field of schema.fields) {
    const error = validateField(field, submission.data[field.key]);
    if (error) errors[field.key] = error;
  }
  return errors;
}

/** `YYYY-MM-DD`, years 0001–9999, a day the month has (proleptic Gregorian). */
export function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (year === 0 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day <= daysInMonth;
}

const patterns = new Map<string, RegExp | undefined>();

/**
 * The admin's regex anchored like the service anchors it (`^(?:re)$`, so the whole value must
 * match) with the `u` flag. `undefined` when JavaScript cannot compile it: the service, which
 * uses the Rust `regex` syntax, then decides alone.
 */
export function compilePattern(source: string): RegExp | undefined {
  if (!patterns.has(source)) {
    let compiled: RegExp | undefined;
    try {
      compiled = new RegExp(`^(?:${source})$`, 'u');
    } catch {
      compiled = undefined;
    }
    patterns.set(source, compiled);
  }
  return patterns.get(source);
}
