import { useCallback, useEffect, useState } from 'react';
import { api } from '../api/client';
import type { App, Schema } from '../api/types';
import { Link } from '../components/Link';
import { ErrorBanner, Spinner } from '../components/bits';
import { appPath, type AppTab } from '../router';
import { useSession } from '../session';
import { ConnectPanel } from './ConnectPanel';
import { SchemaPanel } from './SchemaPanel';
import { SettingsPanel } from './SettingsPanel';
import { UsersPanel } from './UsersPanel';

const TAB_LABELS: Record<AppTab, string> = { users: 'Users', schema: 'Schema', connect: 'Connect your site', settings: 'Settings' };

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
        {(Object.keys(TAB_LABELS) as AppTab[]).map((name) => (
          <Link key={name} href={appPath(appId, name)} className={name === tab ? 'tab is-active' : 'tab'} aria-current={name === tab ? 'page' : undefined}>
            {TAB_LABELS[name]}
          </Link>
        ))}
      </nav>
      {tab === 'users' && <UsersPanel app={app} schema={schema} />}
      {tab === 'schema' && <SchemaPanel app={app} schema={schema} onSaved={setSchema} />}
      {tab === 'connect' && <ConnectPanel app={app} schema={schema} />}
      {tab === 'settings' && <SettingsPanel app={app} onChanged={setApp} />}
    </section>
  );
}
