import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';

import type { AcceptInviteInput, AuthResult, LoginInput, RegisterInput, User } from '../accounts/types.js';
import type { UsersClient } from '../client.js';
import { UnauthorizedError } from '../errors.js';

/** `loading`: finding out whether stored tokens still hold a session. */
export type AuthStatus = 'loading' | 'signedIn' | 'signedOut';

export interface AuthState {
  status: AuthStatus;
  /** The account, once signed in (from `GET /v1/users/me`, or the login's answer). */
  user: User | null;
  /** The client given to `<AuthProvider>`, for every other call. */
  client: UsersClient;
  login(input: LoginInput): Promise<User>;
  register(input: RegisterInput): Promise<User>;
  acceptInvite(input: AcceptInviteInput): Promise<User>;
  logout(options?: { all?: boolean }): Promise<void>;
  /** Reads the account again (after `users.update`, a verification, an organization change). */
  reload(): Promise<void>;
  /**
   * Makes one of the account's organizations the active one: a refresh with `organization_id`
   * (the new access token's `org`, role and permissions), then `user` read again, no page load.
   * Throws the service's refusal (not a member: 403) and leaves the state as it was.
   */
  switchOrganization(organizationId: string): Promise<User>;
}

const AuthContext = createContext<AuthState | null>(null);

export interface AuthProviderProps {
  /** From `createUsersClient`; create it once (module scope or `useMemo`), not at every render. */
  client: UsersClient;
  children?: ReactNode;
}

/**
 * Holds who is signed in for the components below it: reads the account when the client has
 * tokens (a reload with `localStorage`), and follows logins and logouts of this tab and of others.
 */
export function AuthProvider({ client, children }: AuthProviderProps) {
  const [status, setStatus] = useState<AuthStatus>('loading');
  const [user, setUser] = useState<User | null>(null);
  // Only the newest read may set the state: a slow `me()` must not undo a later logout.
  const generation = useRef(0);
  // Set while this provider logs in itself: its answer already holds the account.
  const ownLogin = useRef(0);

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    if (!(await client.auth.isLoggedIn())) {
      if (mine === generation.current) {
        setUser(null);
        setStatus('signedOut');
      }
      return;
    }
    try {
      const me = await client.users.me();
      if (mine === generation.current) {
        setUser(me);
        setStatus('signedIn');
      }
    } catch (error) {
      if (mine !== generation.current) return;
      if (error instanceof UnauthorizedError) {
        setUser(null);
        setStatus('signedOut');
      } else {
        // The service is unreachable: the tokens may still be good; stay as we were.
        setStatus((previous) => (previous === 'loading' ? 'signedOut' : previous));
      }
    }
  }, [client]);

  useEffect(() => {
    void reload();
    return client.auth.onChange((loggedIn) => {
      if (!loggedIn) {
        generation.current++;
        setUser(null);
        setStatus('signedOut');
      } else if (ownLogin.current === 0) {
        // Another tab logged in (localStorage), or the client was used directly.
        void reload();
      }
    });
  }, [client, reload]);

  const signIn = useCallback(async (call: () => Promise<AuthResult>) => {
    ownLogin.current++;
    let result: AuthResult;
    try {
      result = await call();
    } finally {
      ownLogin.current--;
    }
    generation.current++;
    setUser(result.user);
    setStatus('signedIn');
    return result.user;
  }, []);

  const switchOrganization = useCallback(
    async (organizationId: string) => {
      const mine = ++generation.current;
      if (!(await client.auth.refresh({ organization_id: organizationId }))) {
        throw new UnauthorizedError({ status: 401, code: 'unauthorized', message: 'Not signed in.' });
      }
      const me = await client.users.me();
      if (mine === generation.current) {
        setUser(me);
        setStatus('signedIn');
      }
      return me;
    },
    [client],
  );

  const value = useMemo<AuthState>(
    () => ({
      status,
      user,
      client,
      login: (input) => signIn(() => client.auth.login(input)),
      register: (input) => signIn(() => client.auth.register(input)),
      acceptInvite: (input) => signIn(() => client.auth.acceptInvite(input)),
      logout: async (options) => {
        generation.current++;
        try {
          await client.auth.logout(options);
        } finally {
          setUser(null);
          setStatus('signedOut');
        }
      },
      reload,
      switchOrganization,
    }),
    [status, user, client, signIn, reload, switchOrganization],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

/** Who is signed in, and the calls that change it. Needs an `<AuthProvider>` above. */
export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (state === null) throw new Error('useAuth: no <AuthProvider> above this component');
  return state;
}
