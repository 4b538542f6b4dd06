import type { App, Schema } from '../api/types';
import { CodeBlock } from '../components/bits';
import { SDK_MODULE_PATH, SDK_TARBALL_PATH, fetchSnippet, htmlFormSnippet, moduleSnippet, reactSnippet } from '../lib/snippets';

export function ConnectPanel({ app, schema }: { app: App; schema: Schema }) {
  const baseUrl = window.location.origin;
  const origins = app.allowedOrigins;
  return (
    <div className="panel connect" data-testid="connect">
      <p>
        Sites send sign-ups to <code>{baseUrl}/v1/users</code> with the header <code>x-app-id: {app.sourceAppId}</code>. Browsers may only send them from
        the allowed origins: {origins.length === 0 ? <strong>none yet — add your site’s origin under Settings.</strong> : <code>{origins.join(', ')}</code>}
      </p>
      <CodeBlock label="fetch (any site)" code={fetchSnippet(baseUrl, app.sourceAppId, schema.fields)} />
      <CodeBlock label="Any page, no build step (the client served by this service)" code={moduleSnippet(baseUrl, app.sourceAppId, schema.fields)} />
      <CodeBlock label="React (@users-api/client)" code={reactSnippet(baseUrl, app.sourceAppId, app.honeypotField)} />
      <CodeBlock label="Plain HTML form (no JavaScript)" code={htmlFormSnippet(baseUrl, app.sourceAppId, schema.fields, app.honeypotField)} />
      <p className="hint">
        The form can also be built from the schema at run time: <code>GET {baseUrl}/v1/schema</code> with the same header.
      </p>
      <p className="hint">
        This service serves the JavaScript client itself: <code>{baseUrl}{SDK_MODULE_PATH}</code> as an ES module, and{' '}
        <code>{baseUrl}{SDK_TARBALL_PATH}</code> as a package for <code>npm install</code>.
      </p>
    </div>
  );
}
