import { UsersApiError } from './errors.js';

/** How `describeError` names the service, what an unlisted origin may not do, and the page. */
export interface ServiceWording {
  service: string;
  refused: string;
  page: string;
}

const SIGN_UPS: ServiceWording = {
  service: 'sign-up service',
  refused: 'is not allowed to send sign-ups to this app',
  page: 'form',
};

/** The accounts layer's wording (the React forms' `describeAuthError`). */
export const ACCOUNTS: ServiceWording = {
  service: 'account service',
  refused: "may not use this app's accounts",
  page: 'page',
};

/**
 * A sentence for a visitor about a failed call. `origin` (the page's own, e.g.
 * `location.origin`) is named where the likely cause is an origin missing from the app's
 * allowed origins: a browser reports that refusal to scripts as a plain network failure.
 */
export function describeError(error: unknown, origin?: string, wording: ServiceWording = SIGN_UPS): string {
  if (!(error instanceof UsersApiError)) return 'Something went wrong. Please try again.';
  const site = origin ? ` (${origin})` : '';
  const { service } = wording;
  switch (error.code) {
    case 'network_error':
      return (
        `The ${service} could not be reached. Check your connection and try again. ` +
        `If you run this site: make sure its origin${site} is in the app's allowed origins.`
      );
    case 'origin_not_allowed':
      return `This site${site} ${wording.refused}: its origin is not in the app's allowed origins.`;
    case 'timeout':
      return `The ${service} took too long to answer. Please try again.`;
    case 'rate_limited':
      return error.retryAfterSeconds !== undefined
        ? `Too many attempts. Please wait ${error.retryAfterSeconds} seconds and try again.`
        : 'Too many attempts. Please wait a moment and try again.';
    case 'storage_unavailable':
      return `The ${service} is briefly unavailable. Please try again in a moment.`;
    case 'unknown_app':
      return `This ${wording.page} is not set up correctly: the service knows no app with this id.`;
    case 'validation_failed':
      return 'Please correct the marked fields.';
    default:
      return error.message;
  }
}
