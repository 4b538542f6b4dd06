// A tiny history router: the service answers index.html for every non-API path.
import { useEffect, useState } from 'react';

export type Route =
  | { name: 'login' }
  | { name: 'apps' }
  | { name: 'app'; appId: string; tab: AppTab }
  | { name: 'notFound' };

export type AppTab = 'users' | 'schema' | 'connect' | 'accounts' | 'organizations' | 'auth' | 'api-keys' | 'mail' | 'settings';

/**
 * The app page's tabs in their order, in groups: the sign-up records, the accounts API, the app
 * itself.
 */
export const APP_TABS: ReadonlyArray<{ tab: AppTab; label: string; group: 'records' | 'accounts' | 'app' }> = [
  { tab: 'users', label: 'Users', group: 'records' },
  { tab: 'schema', label: 'Schema', group: 'records' },
  { tab: 'connect', label: 'Connect your site', group: 'records' },
  { tab: 'accounts', label: 'Accounts', group: 'accounts' },
  { tab: 'organizations', label: 'Organizations', group: 'accounts' },
  { tab: 'auth', label: 'Auth settings', group: 'accounts' },
  { tab: 'api-keys', label: 'API keys', group: 'accounts' },
  { tab: 'mail', label: 'E-mail log', group: 'accounts' },
  { tab: 'settings', label: 'Settings', group: 'app' },
];
const TABS: readonly AppTab[] = APP_TABS.map((entry) => entry.tab);

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter((part) => part !== '');
  if (parts.length === 0) return { name: 'apps' };
  if (parts[0] === 'login' && parts.length === 1) return { name: 'login' };
  if (parts[0] === 'apps' && parts.length === 1) return { name: 'apps' };
  if (parts[0] === 'apps' && parts[1] !== undefined && parts.length <= 3) {
    let appId: string;
    try {
      appId = decodeURIComponent(parts[1]);
    } catch {
      return { name: 'notFound' };
    }
    const tab = (parts[2] ?? 'users') as AppTab;
    if (!TABS.includes(tab)) return { name: 'notFound' };
    return { name: 'app', appId, tab };
  }
  return { name: 'notFound' };
}

export function appPath(appId: string, tab: AppTab = 'users'): string {
  return `/apps/${encodeURIComponent(appId)}/${tab}`;
}

export function navigate(path: string, replace = false): void {
  if (path === window.location.pathname) return;
  if (replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function usePathname(): string {
  const [pathname, setPathname] = useState(() => window.location.pathname);
  useEffect(() => {
    const update = () => setPathname(window.location.pathname);
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return pathname;
}
