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
export { AuthProvider, useAuth } from './AuthProvider.js';
export type { AuthProviderProps, AuthState, AuthStatus } from './AuthProvider.js';
export {
  AcceptInviteForm,
  ChangePasswordForm,
  ForgotPasswordForm,
  LoginForm,
  ProfileForm,
  RegisterForm,
  ResetPasswordForm,
  VerifyEmail,
  authFormClassNames,
  describeAuthError,
} from './AuthForms.js';
export type {
  AcceptInviteFormProps,
  AuthFormCommonProps,
  ChangePasswordFormProps,
  AuthFormVariant,
  ForgotPasswordFormProps,
  LoginFormProps,
  ProfileFormProps,
  RegisterFormProps,
  ResetPasswordFormProps,
  VerifyEmailProps,
} from './AuthForms.js';
