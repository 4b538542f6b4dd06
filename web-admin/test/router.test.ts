import { describe, expect, it } from 'vitest';
import { APP_TABS, appPath, parseRoute } from '../src/router';

describe('router', () => {
  it('parses the dashboard paths', () => {
    expect(parseRoute('/')).toEqual({ name: 'apps' });
    expect(parseRoute('/login')).toEqual({ name: 'login' });
    expect(parseRoute('/apps/my.site')).toEqual({ name: 'app', appId: 'my.site', tab: 'users' });
    expect(parseRoute(appPath('a b', 'schema'))).toEqual({ name: 'app', appId: 'a b', tab: 'schema' });
    expect(parseRoute('/apps/x/nope')).toEqual({ name: 'notFound' });
    expect(parseRoute('/apps/%E0%A4%A')).toEqual({ name: 'notFound' });
  });

  it('has a path for every tab, the accounts API’s ones together', () => {
    for (const { tab } of APP_TABS) expect(parseRoute(appPath('site', tab))).toEqual({ name: 'app', appId: 'site', tab });
    expect(appPath('site', 'api-keys')).toBe('/apps/site/api-keys');
    expect(APP_TABS.filter((t) => t.group === 'accounts').map((t) => t.label)).toEqual(['Accounts', 'Organizations', 'Auth settings', 'API keys', 'E-mail log']);
  });
});
