import { useCallback, useEffect, useState } from 'react';
import { api } from '../api/client';
import type { App, Schema } from '../api/types';
import { Link } from '../components/Link';
import { ErrorBanner, Spinner } from '../components/bits';
import { APP_TABS, appPath, type AppTab } from '../router';
import { useSession } from '../session';
import { AccountsPanel } from './AccountsPanel';
import { ApiKeysPanel } from './ApiKeysPanel';
import { AuthSettingsPanel } from './AuthSettingsPanel';
import { ConnectPanel } from './ConnectPanel';
import { MailLogPanel } from './MailLogPanel';
import { OrganizationsPanel } from './OrganizationsPanel';
import { SchemaPanel } from './SchemaPanel';
import { SettingsPanel } from './SettingsPanel';
import { UsersPanel } from './UsersPanel';

export function AppPage({ appId, tab }: { appId: string; tab: AppTab }) {
  const { isAdmin } = useSession();
  const [app, setApp] = useState<App | null>(null);
  const [schema, setSchema] = useState<Schema | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async (signal?: AbortSignal) => {
    try {
      setError(null);
      const [loadedApp, loadedSchema] = await Promise.all([api.getApp(appId, signal), api.getSchema(appId, signal)]);
      setApp(loadedApp);
      setSchema(loadedSchema);
    } catch (caught) {
      if (!signal?.aborted) setError(caught);
    }
  }, [appId]);

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  if (error) return <ErrorBanner error={error} />;
  if (!app || !schema) return <Spinner label="Loading app…" />;

  return (
    <section aria-labelledby="app-title">
      {isAdmin && (
        <nav aria-label="Breadcrumb" className="breadcrumb">
          <Link href="/apps">Apps</Link> <span aria-hidden="true">/</span> <span>{app.sourceAppId}</span>
        </nav>
      )}
      <div className="page-head">
        <h1 id="app-title">
          {app.name || app.sourceAppId} <span className="muted mono small">{app.sourceAppId}</span>
        </h1>
      </div>
      <nav className="tabs" aria-label="App sections">
        {APP_TABS.map(({ tab: name, label, group }, index) => (
          <Link
            key={name}
            href={appPath(appId, name)}
            className={`tab${name === tab ? ' is-active' : ''}${index > 0 && APP_TABS[index - 1]?.group !== group ? ' tab--group-start' : ''}`}
            aria-current={name === tab ? 'page' : undefined}
          >
            {label}
          </Link>
        ))}
      </nav>
      {tab === 'users' && <UsersPanel app={app} schema={schema} />}
      {tab === 'schema' && <SchemaPanel app={app} schema={schema} onSaved={setSchema} />}
      {tab === 'connect' && <ConnectPanel app={app} schema={schema} />}
      {tab === 'accounts' && <AccountsPanel app={app} />}
      {tab === 'organizations' && <OrganizationsPanel app={app} />}
      {tab === 'auth' && <AuthSettingsPanel app={app} onChanged={setApp} />}
      {tab === 'api-keys' && <ApiKeysPanel app={app} />}
      {tab === 'mail' && <MailLogPanel app={app} />}
      {tab === 'settings' && <SettingsPanel app={app} onChanged={setApp} />}
    </section>
  );
}
