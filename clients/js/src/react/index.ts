export { useUsersForm, toFieldValue } from './useUsersForm.js';
export type {
  FormInput,
  SetValueOptions,
  UseUsersFormOptions,
  UsersFormState,
  UsersFormStatus,
} from './useUsersForm.js';
export { UsersForm, usersFormClassNames } from './UsersForm.js';
export type { UsersFormProps, UsersFormVariant } from './UsersForm.js';
