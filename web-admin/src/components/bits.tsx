import { useId, useState, type ReactNode } from 'react';
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

interface ShownOnceProps {
  /** The warning's first, bold sentence. */
  warning: string;
  /** What the warning goes on to say. */
  children: ReactNode;
  label: string;
  value: string;
  help: string;
  onDone: () => void;
  testId: string;
}

/** A secret the service answers this once (a password, an API key): a copy button and a clear warning. */
export function ShownOnce({ warning, children, label, value, help, onDone, testId }: ShownOnceProps) {
  const helpId = useId();
  return (
    <div className="secret" data-testid={testId}>
      <p className="banner banner--warning">
        <strong>{warning}</strong> {children}
      </p>
      <label className="field">
        <span>{label}</span>
        <div className="secret__row">
          <input className="secret__value" readOnly value={value} onFocus={(e) => e.currentTarget.select()} data-autofocus aria-describedby={helpId} />
          <CopyButton text={value} />
        </div>
      </label>
      <p id={helpId} className="hint">{help}</p>
      <div className="actions">
        <button type="button" className="button button--primary" onClick={onDone}>
          I have copied it
        </button>
      </div>
    </div>
  );
}

/** The one-time password: shown once, with a copy button and a clear warning. */
export function OneTimeSecret({ appId, password, onDone }: { appId: string; password: string; onDone: () => void }) {
  return (
    <ShownOnce
      testId="one-time-password"
      warning="Copy this password now — you will not see it again."
      label={`Password for ${appId}`}
      value={password}
      help="Only a hash is stored. If it is lost, rotate the password."
      onDone={onDone}
    >
      Give it to the owner of <code>{appId}</code>; they sign in with the app id and this password.
    </ShownOnce>
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

export interface ControlProps {
  id: string;
  'aria-describedby': string | undefined;
  'aria-invalid': boolean | undefined;
}

/**
 * A labelled control with its hint, or the server's word on it instead: the label alone names
 * the control, the hint or error describes it.
 */
export function Field({ label, hint, error, className, children }: { label: ReactNode; hint?: ReactNode; error?: string | undefined; className?: string; children: (control: ControlProps) => ReactNode }) {
  const id = useId();
  const noteId = `${id}-note`;
  const note = error ?? hint;
  return (
    <div className={className ? `field ${className}` : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-describedby': note ? noteId : undefined, 'aria-invalid': error ? true : undefined })}
      {note && <small id={noteId} className={error ? 'field-error' : 'hint'}>{note}</small>}
    </div>
  );
}
