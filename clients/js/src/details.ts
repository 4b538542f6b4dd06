import type { ErrorDetail } from './types.js';
import type { FieldErrors } from './validate.js';

/**
 * Sorts the `details` of a `validation_failed` answer by form field: `email` stays `email`,
 * `data.<key>` becomes `<key>` when the form has that key. Anything else (`data` itself, a key
 * the form does not show) is returned in `unplaced`, to show above the form.
 */
export function mapErrorDetails(
  details: readonly ErrorDetail[],
  formKeys: readonly string[],
): { fieldErrors: FieldErrors; unplaced: ErrorDetail[] } {
  const known = new Set(formKeys);
  const fieldErrors: FieldErrors = {};
  const unplaced: ErrorDetail[] = [];
  for (const detail of details) {
    const key = detail.field === 'email' ? 'email' : detail.field.startsWith('data.') ? detail.field.slice(5) : undefined;
    if (key !== undefined && (key === 'email' || known.has(key))) {
      // The first problem of a field is the one shown, as the client-side check does.
      fieldErrors[key] ??= { code: detail.code, message: detail.message };
    } else {
      unplaced.push(detail);
    }
  }
  return { fieldErrors, unplaced };
}
