export { createUsersClient } from './client.js';
export type { AccountUsersApi, AuthApi, UsersClient, UsersClientOptions } from './client.js';
export {
  ForbiddenError,
  RateLimitedError,
  UnauthorizedError,
  UsersApiError,
  ValidationError,
  errorForStatus,
  isUsersApiError,
} from './errors.js';
export { localStorageTokenStorage, memoryTokenStorage } from './accounts/storage.js';
export type { LocalStorageTokenStorageOptions, StoredTokens, TokenStorage } from './accounts/storage.js';
export { webLocksRefreshLock } from './accounts/tokens.js';
export type { RefreshLock } from './accounts/tokens.js';
export type { OrganizationsApi } from './accounts/api.js';
export type * from './accounts/types.js';
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
