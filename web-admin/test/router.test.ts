import { describe, expect, it } from 'vitest';
import { appPath, parseRoute } from '../src/router';

describe('router', () => {
  it('parses the dashboard paths', () => {
    expect(parseRoute('/')).toEqual({ name: 'apps' });
    expect(parseRoute('/login')).toEqual({ name: 'login' });
    expect(parseRoute('/apps/my.site')).toEqual({ name: 'app', appId: 'my.site', tab: 'users' });
    expect(parseRoute(appPath('a b', 'schema'))).toEqual({ name: 'app', appId: 'a b', tab: 'schema' });
    expect(parseRoute('/apps/x/nope')).toEqual({ name: 'notFound' });
    expect(parseRoute('/apps/%E0%A4%A')).toEqual({ name: 'notFound' });
  });
});
