import { createUsersClient } from '@users-api/client';

/**
 * The one client of the site, created once at module scope. `localStorage` keeps the tokens
 * across reloads and shares them between tabs, so the links of the e-mails (opened in a new
 * tab) find you signed in. Anything running on the page can read localStorage: choose
 * 'memory' (the default) where your threat model asks for it.
 */
export const users = createUsersClient({
  baseUrl: import.meta.env.VITE_USERS_API_URL,
  appId: import.meta.env.VITE_USERS_API_APP_ID,
  storage: 'localStorage',
});
