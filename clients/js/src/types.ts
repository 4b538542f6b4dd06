/**
 * Wire types of the public Users API, written from the API contract (docs/schema.md and the
 * service's `/openapi.json`; a test compares them with the latter).
 */

/** The kinds of field a schema can hold. */
export type FieldKind = 'text' | 'number' | 'select' | 'date' | 'checkbox';

/** What every field has, whatever its kind. */
export interface FieldBase {
  /** `^[A-Za-z][A-Za-z0-9_]{0,63}$`: the key under `data` in a submission. */
  key: string;
  /** What a person sees; the service fills it with the key when the admin gave none. */
  label: string;
  kind: FieldKind;
  /** For a checkbox: it must be ticked (consent). Otherwise: `null` and `""` are refused. */
  required: boolean;
}

/** A JSON string; lengths count Unicode code points; `regex` must match the whole value. */
export interface TextField extends FieldBase {
  kind: 'text';
  minLength?: number;
  maxLength?: number;
  regex?: string;
}

/** A finite JSON number. */
export interface NumberField extends FieldBase {
  kind: 'number';
  min?: number;
  max?: number;
  integer?: boolean;
}

/** A string out of `enum`. */
export interface SelectField extends FieldBase {
  kind: 'select';
  enum: string[];
}

/** A real calendar date written `YYYY-MM-DD`; `min` and `max` are written the same way. */
export interface DateField extends FieldBase {
  kind: 'date';
  min?: string;
  max?: string;
}

/** A JSON boolean; `required: true` means it must be `true`. */
export interface CheckboxField extends FieldBase {
  kind: 'checkbox';
}

/** One field of an app's schema, told apart by `kind`. */
export type Field = TextField | NumberField | SelectField | DateField | CheckboxField;

/** `GET /v1/schema`: the app's current schema. */
export interface Schema {
  version: number;
  /** `true`: a submission holding a key the schema does not name is refused (422). */
  rejectUnknown: boolean;
  fields: Field[];
}

/** A value a form field can hold. `null` and `""` both mean "not answered". */
export type FieldValue = string | number | boolean | null;

/** The body of `POST /v1/users`. */
export interface Submission {
  email: string;
  data: Record<string, FieldValue>;
}

/**
 * `POST /v1/users` 200. Deliberately nothing else: the answer never tells whether the email
 * was already known.
 */
export interface SubmitResult {
  /** The record's id, a UUIDv7 string. */
  id: string;
  /** RFC 3339, UTC. */
  createdAt: string;
  /** RFC 3339, UTC. */
  updatedAt: string;
}

/** The property names of {@link SubmitResult}, kept complete by the type below. */
export const SUBMIT_RESULT_KEYS = ['id', 'createdAt', 'updatedAt'] as const satisfies readonly (keyof SubmitResult)[];

// Fails to compile if SubmitResult gains a property that SUBMIT_RESULT_KEYS does not list.
type Missing = Exclude<keyof SubmitResult, (typeof SUBMIT_RESULT_KEYS)[number]>;
const submitResultKeysComplete: [Missing] extends [never] ? true : false = true;
void submitResultKeysComplete;

/** One problem with one field, as the service reports it in `error.details`. */
export interface ErrorDetail {
  /** `email`, `data` or `data.<key>`. */
  field: string;
  /** `required`, `email`, `type`, `minLength`, `maxLength`, `regex`, `min`, `max`, `enum`, `date`, `unknown`. */
  code: string;
  /** What is wrong, without the field name: `must be at most 120`. */
  message: string;
}

/** Every error answer of the service. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    details?: ErrorDetail[];
  };
}
