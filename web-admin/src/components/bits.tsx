import { useState, type ReactNode } from 'react';
import type { ApiError } from '../api/client';

export function ErrorBanner({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const details = (error as Partial<ApiError>).details ?? [];
  return (
    <div className="banner banner--error" role="alert">
      <p>{message}</p>
      {details.length > 0 && (
        <ul>
          {details.map((detail, index) => (
            <li key={index}>
              <strong>{detail.field}</strong>: {detail.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
    window.setTimeout(() => setState('idle'), 2500);
  };
  return (
    <button type="button" className="button button--small" onClick={() => void copy()}>
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy by hand' : label}
      <span className="visually-hidden" role="status">{state === 'copied' ? 'Copied to the clipboard' : ''}</span>
    </button>
  );
}

/** The one-time password: shown once, with a copy button and a clear warning. */
export function OneTimeSecret({ appId, password, onDone }: { appId: string; password: string; onDone: () => void }) {
  return (
    <div className="secret" data-testid="one-time-password">
      <p className="banner banner--warning">
        <strong>Copy this password now — you will not see it again.</strong> Give it to the owner of <code>{appId}</code>; they sign in with the app id and this password.
      </p>
      <label className="field">
        <span>Password for {appId}</span>
        <div className="secret__row">
          <input className="secret__value" readOnly value={password} onFocus={(e) => e.currentTarget.select()} data-autofocus aria-describedby="secret-help" />
          <CopyButton text={password} />
        </div>
      </label>
      <p id="secret-help" className="hint">Only a hash is stored. If it is lost, rotate the password.</p>
      <div className="actions">
        <button type="button" className="button button--primary" onClick={onDone}>
          I have copied it
        </button>
      </div>
    </div>
  );
}

export function CodeBlock({ code, label }: { code: string; label: string }) {
  return (
    <figure className="code">
      <figcaption>
        <span>{label}</span>
        <CopyButton text={code} label={`Copy`} />
      </figcaption>
      <pre tabIndex={0} aria-label={label}>
        <code>{code}</code>
      </pre>
    </figure>
  );
}
