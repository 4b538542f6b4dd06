import { UnauthorizedError } from '../errors.js';
import type { Transport } from '../http.js';
import type { StoredTokens, TokenStorage } from './storage.js';
import type { RefreshResult } from './types.js';

/**
 * Runs `task` while holding the lock `name`, across every tab of the site. The Web Locks API
 * (`navigator.locks.request`) is one; tests pass their own.
 */
export type RefreshLock = <T>(name: string, task: () => Promise<T>) => Promise<T>;

/** `navigator.locks` as a {@link RefreshLock}, where the runtime has it. */
export function webLocksRefreshLock(): RefreshLock | undefined {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (locks === undefined || typeof locks.request !== 'function') return undefined;
  return <T>(name: string, task: () => Promise<T>) => locks.request(name, () => task()) as Promise<T>;
}

export interface TokenManagerOptions {
  transport: Transport;
  storage: TokenStorage;
  /** `null`: no lock across tabs (one tab, or Node). */
  lock: RefreshLock | null;
  lockName: string;
  /** Refresh when the access token expires within this many milliseconds. */
  refreshMarginMs: number;
}

type Listener = (tokens: StoredTokens | null) => void;

/**
 * Keeps the tokens: hands out an access token fit to send, refreshing it first when it is about
 * to expire, and after the service refused it. Refresh tokens rotate at every use, so two
 * refreshes with the same one must never race: within a client one refresh is in flight at a
 * time (every caller waits for it), and across tabs the refresh runs under a lock, re-reading the
 * stored tokens once it holds it — another tab may have rotated them meanwhile, and then its
 * tokens are used as they are.
 */
export class TokenManager {
  readonly #options: TokenManagerOptions;
  readonly #listeners = new Set<Listener>();
  #inflight: Promise<StoredTokens | null> | undefined;

  constructor(options: TokenManagerOptions) {
    this.#options = options;
    options.storage.subscribe?.((tokens) => this.#emit(tokens));
  }

  /** The stored tokens, as they are. */
  async current(): Promise<StoredTokens | null> {
    return this.#options.storage.get();
  }

  /** Keeps the tokens of a login, a registration, an accepted invitation or a refresh. */
  async save(result: RefreshResult): Promise<StoredTokens> {
    const tokens: StoredTokens = {
      accessToken: result.token,
      refreshToken: result.refresh_token,
      expiresAt: localExpiry(result.token, result.expires_at),
    };
    await this.#set(tokens);
    return tokens;
  }

  async clear(): Promise<void> {
    await this.#set(null);
  }

  /** Called with the new tokens (`null`: logged out) after every change, this tab's or another's. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** An access token to send (refreshed first when it expires soon), or `null` when logged out. */
  async accessToken(): Promise<string | null> {
    const tokens = await this.current();
    if (tokens === null) return null;
    if (!this.#expiresSoon(tokens)) return tokens.accessToken;
    return (await this.refresh({ stale: tokens.accessToken }))?.accessToken ?? null;
  }

  /**
   * Refreshes, unless someone else already replaced `stale` (the access token that was refused
   * or is about to expire). Concurrent callers share one refresh. `organizationId` switches the
   * active organization and always refreshes. Resolves to `null` when there is nothing to
   * refresh (logged out); a refused refresh token logs out and throws {@link UnauthorizedError}.
   */
  refresh(options: { stale?: string | undefined; organizationId?: string | undefined } = {}): Promise<StoredTokens | null> {
    if (options.organizationId !== undefined) return this.#locked(() => this.#refreshNow(options));
    this.#inflight ??= this.#locked(() => this.#refreshNow(options)).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  #locked<T>(task: () => Promise<T>): Promise<T> {
    const { lock, lockName } = this.#options;
    return lock === null ? task() : lock(lockName, task);
  }

  async #refreshNow(options: { stale?: string | undefined; organizationId?: string | undefined }): Promise<StoredTokens | null> {
    // Read again under the lock: another tab may have refreshed while this one waited.
    const current = await this.current();
    if (current === null) return null;
    const forced = options.organizationId !== undefined;
    const replaced = options.stale !== undefined && current.accessToken !== options.stale;
    if (!forced && replaced && !this.#expiresSoon(current)) return current;
    let result: RefreshResult;
    try {
      result = await this.#options.transport<RefreshResult>({
        method: 'POST',
        path: '/v1/auth/refresh',
        body: { refresh_token: current.refreshToken, organization_id: options.organizationId },
        envelope: true,
        // Sent again after a lost answer, the same refresh token gets the same successor
        // within the service's grace window.
        retry: true,
      });
    } catch (error) {
      if (error instanceof UnauthorizedError) {
        // The session is over (logged out elsewhere, revoked, expired). Forget it, unless
        // another tab stored newer tokens in the meantime.
        const now = await this.current();
        if (now === null || now.refreshToken === current.refreshToken) await this.#set(null);
      }
      throw error;
    }
    return this.save(result);
  }

  #expiresSoon(tokens: StoredTokens): boolean {
    return tokens.expiresAt - Date.now() <= this.#options.refreshMarginMs;
  }

  async #set(tokens: StoredTokens | null): Promise<void> {
    await this.#options.storage.set(tokens);
    this.#emit(tokens);
  }

  #emit(tokens: StoredTokens | null): void {
    for (const listener of this.#listeners) listener(tokens);
  }
}

/**
 * The access token's expiry by this device's clock: now plus the token's own lifetime
 * (`exp - iat`), so a device whose clock is off neither refreshes at every call nor sends
 * expired tokens. Falls back on `expires_at` when the token cannot be read.
 */
export function localExpiry(token: string, expiresAt: string): number {
  const claims = decodeClaims(token);
  if (claims !== undefined && typeof claims.exp === 'number' && typeof claims.iat === 'number' && claims.exp > claims.iat) {
    return Date.now() + (claims.exp - claims.iat) * 1000;
  }
  const parsed = Date.parse(expiresAt);
  return Number.isNaN(parsed) ? Date.now() : parsed;
}

/** The claims of a JWT, unverified (only to read its lifetime). */
export function decodeClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '='));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
