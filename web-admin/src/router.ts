// A tiny history router: the service answers index.html for every non-API path.
import { useEffect, useState } from 'react';

export type Route =
  | { name: 'login' }
  | { name: 'apps' }
  | { name: 'app'; appId: string; tab: AppTab }
  | { name: 'notFound' };

export type AppTab = 'users' | 'schema' | 'connect' | 'settings';
const TABS: readonly AppTab[] = ['users', 'schema', 'connect', 'settings'];

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
