/** The tokens of a logged-in client, as a {@link TokenStorage} keeps them. */
export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  /**
   * When the access token expires, in milliseconds since the epoch by this device's clock
   * (computed from the token's own lifetime, so a device whose clock is off still refreshes on
   * time).
   */
  expiresAt: number;
}

/**
 * Where a client keeps its tokens. `get` and `set` may be synchronous or return promises (an
 * async store such as React Native's works). `subscribe`, when present, reports changes made
 * by someone else (another tab): the client then follows them.
 */
export interface TokenStorage {
  get(): StoredTokens | null | Promise<StoredTokens | null>;
  set(tokens: StoredTokens | null): void | Promise<void>;
  subscribe?(listener: (tokens: StoredTokens | null) => void): () => void;
}

/** The default: tokens live as long as the page (or the Node process). */
export function memoryTokenStorage(initial: StoredTokens | null = null): TokenStorage {
  let tokens = initial;
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next;
    },
  };
}

export interface LocalStorageTokenStorageOptions {
  /** The key under which the tokens are kept. */
  key: string;
  /** Another `Storage` (`sessionStorage`), or a stand-in in tests. Default `localStorage`. */
  storage?: Storage | undefined;
  /** Where `storage` events arrive. Default `window`, when there is one. */
  events?: Pick<Window, 'addEventListener' | 'removeEventListener'> | undefined;
}

/**
 * Tokens in `localStorage` (opt-in): they survive a reload and are shared by the site's tabs,
 * which follow each other's logins, refreshes and logouts through `storage` events. Anything
 * running on the page can read them: use it only where the site's threat model allows.
 */
export function localStorageTokenStorage(options: LocalStorageTokenStorageOptions): TokenStorage {
  const storage = options.storage ?? globalThis.localStorage;
  if (storage === undefined) throw new TypeError('localStorageTokenStorage: there is no localStorage here');
  const events = options.events ?? (typeof window === 'undefined' ? undefined : window);
  const { key } = options;
  return {
    get: () => parseTokens(storage.getItem(key)),
    set: (tokens) => {
      if (tokens === null) storage.removeItem(key);
      else storage.setItem(key, JSON.stringify(tokens));
    },
    subscribe: (listener) => {
      if (events === undefined) return () => {};
      const onStorage = (event: StorageEvent) => {
        // `key === null`: the other tab cleared the whole storage.
        if (event.key === key || event.key === null) listener(parseTokens(storage.getItem(key)));
      };
      events.addEventListener('storage', onStorage);
      return () => events.removeEventListener('storage', onStorage);
    },
  };
}

function parseTokens(text: string | null): StoredTokens | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as StoredTokens).accessToken === 'string' &&
      typeof (value as StoredTokens).refreshToken === 'string' &&
      typeof (value as StoredTokens).expiresAt === 'number'
    ) {
      return value as StoredTokens;
    }
  } catch {
    // A damaged entry counts as logged out.
  }
  return null;
}
