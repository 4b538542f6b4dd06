export { createUsersClient } from './client.js';
export type { UsersClient, UsersClientOptions } from './client.js';
export { UsersApiError, isUsersApiError } from './errors.js';
export type { UsersApiErrorCode, UsersApiErrorInit } from './errors.js';
export { SUBMIT_RESULT_KEYS } from './types.js';
export type {
  CheckboxField,
  DateField,
  ErrorBody,
  ErrorDetail,
  Field,
  FieldBase,
  FieldKind,
  FieldValue,
  NumberField,
  Schema,
  SelectField,
  Submission,
  SubmitResult,
  TextField,
} from './types.js';
export { compilePattern, isCalendarDate, isUnanswered, validateEmail, validateField, validateSubmission } from './validate.js';
export type { FieldError, FieldErrors } from './validate.js';
export { describeError } from './messages.js';
export { mapErrorDetails } from './details.js';
