import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { ApiError, api } from '../api/client';
import {
  MAIL_KINDS,
  ORGANIZATION_CREATION,
  type App,
  type LifetimeLimits,
  type MailKind,
  type MailSettings,
  type MailTemplate,
  type OrganizationCreation,
  type RenderedMail,
} from '../api/types';
import { Link } from '../components/Link';
import { ErrorBanner, Field, Spinner } from '../components/bits';
import { MailBody } from '../components/MailBody';
import { LINK_TARGETS, kindLabel, mailFormFrom, mailSettingsBody, placeholders, type MailForm } from '../lib/mail';
import { appPath } from '../router';

/** How long the form waits after the last keystroke before it asks for a new preview. */
export const PREVIEW_DEBOUNCE_MS = 350;

const CREATION_LABELS: Record<OrganizationCreation, { label: string; hint: string }> = {
  verified_accounts: { label: 'Accounts with a verified email', hint: 'The default.' },
  any_account: { label: 'Any account', hint: 'Also accounts that have not opened their verification link yet.' },
  tenant_admins: { label: 'Only tenant admins and API keys', hint: 'Accounts cannot create organizations themselves.' },
};

type LifetimeKey = keyof LifetimeLimits;

const LIFETIMES: ReadonlyArray<{ key: LifetimeKey; label: string; unit: string; hint: string }> = [
  { key: 'accessTokenMinutes', label: 'Access token lifetime', unit: 'minutes', hint: 'How long one access token is valid; the client refreshes it before it ends.' },
  { key: 'sessionIdleDays', label: 'Session idle lifetime', unit: 'days', hint: 'A session (a login on one device) unused this long ends.' },
  { key: 'sessionAbsoluteDays', label: 'Session absolute lifetime', unit: 'days', hint: 'A session ends this long after its login, used or not.' },
];

/** The text of a lifetime field: empty follows the service's. */
const lifetimeText = (value: number | null | undefined) => (value === null || value === undefined ? '' : String(value));

const TEMPLATE_PARTS: ReadonlyArray<{ part: keyof MailTemplate; label: string; rows: number }> = [
  { part: 'subject', label: 'Subject', rows: 1 },
  { part: 'text', label: 'Text part', rows: 8 },
  { part: 'html', label: 'HTML part', rows: 8 },
];

const detailOf = (error: unknown, field: string) => (error instanceof ApiError ? error.detailFor(field) : undefined);

export function AuthSettingsPanel({ app, onChanged }: { app: App; onChanged: (app: App) => void }) {
  return (
    <div className="panel auth-settings">
      <AccountSwitches app={app} onChanged={onChanged} />
      <MailSettingsCard app={app} />
    </div>
  );
}

function AccountSwitches({ app, onChanged }: { app: App; onChanged: (app: App) => void }) {
  const [creation, setCreation] = useState<OrganizationCreation>(app.organizationCreation ?? 'verified_accounts');
  const [requireVerified, setRequireVerified] = useState(app.requireVerifiedEmail === true);
  const [lifetimes, setLifetimes] = useState<Record<LifetimeKey, string>>(() => ({
    accessTokenMinutes: lifetimeText(app.accessTokenMinutes),
    sessionIdleDays: lifetimeText(app.sessionIdleDays),
    sessionAbsoluteDays: lifetimeText(app.sessionAbsoluteDays),
  }));
  const [localErrors, setLocalErrors] = useState<Partial<Record<LifetimeKey, string>>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    // Empty: the service's (null). A number goes as typed: the service says what is wrong
    // with it (beyond the service's, say), next to its field.
    const lifetime = (key: LifetimeKey) => {
      const text = lifetimes[key].trim();
      return text === '' ? null : Number(text);
    };
    const notNumbers = LIFETIMES.filter(({ key }) => Number.isNaN(lifetime(key) ?? 0));
    if (notNumbers.length > 0) {
      setLocalErrors(Object.fromEntries(notNumbers.map(({ key }) => [key, 'must be a whole number of at least 1'])));
      setBusy(false);
      return;
    }
    setLocalErrors({});
    const changes = {
      organizationCreation: creation,
      requireVerifiedEmail: requireVerified,
      accessTokenMinutes: lifetime('accessTokenMinutes'),
      sessionIdleDays: lifetime('sessionIdleDays'),
      sessionAbsoluteDays: lifetime('sessionAbsoluteDays'),
    };
    try {
      const updated = await api.updateApp(app.sourceAppId, changes);
      onChanged(updated.sourceAppId ? updated : { ...app, ...changes });
      setSaved(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card" onSubmit={(e) => void submit(e)} aria-labelledby="accounts-title" data-testid="account-switches">
      <h2 id="accounts-title">Accounts</h2>
      <fieldset className="fieldset" aria-describedby="creation-error">
        <legend>Who may create organizations</legend>
        {ORGANIZATION_CREATION.map((value) => (
          <label key={value} className="check check--top">
            <input type="radio" name="organizationCreation" value={value} checked={creation === value} onChange={() => setCreation(value)} />
            <span>
              {CREATION_LABELS[value].label} <span className="hint">{CREATION_LABELS[value].hint}</span>
            </span>
          </label>
        ))}
        {detailOf(error, 'organizationCreation') && <small id="creation-error" className="field-error">{detailOf(error, 'organizationCreation')}</small>}
      </fieldset>
      <label className="check check--top">
        <input type="checkbox" name="requireVerifiedEmail" checked={requireVerified} onChange={(e) => setRequireVerified(e.target.checked)} />
        <span>
          Require a verified email to log in <span className="hint">Login answers 403 <code>email_not_verified</code> until the verification link was opened.</span>
        </span>
      </label>
      {detailOf(error, 'requireVerifiedEmail') && <small className="field-error">{detailOf(error, 'requireVerifiedEmail')}</small>}
      <fieldset className="fieldset lifetimes" data-testid="lifetimes">
        <legend>Token and session lifetimes</legend>
        <p className="hint">Empty follows the service&apos;s setting, which is also the most an app may choose.</p>
        {LIFETIMES.map(({ key, label, unit, hint }) => {
          const most = app.lifetimeLimits?.[key];
          return (
            <Field
              key={key}
              label={`${label} (${unit})`}
              hint={most === undefined ? hint : `${hint} Service: ${most} ${unit}.`}
              error={localErrors[key] ?? detailOf(error, key)}
            >
              {(control) => (
                <input
                  {...control}
                  name={key}
                  type="number"
                  inputMode="numeric"
                  min={1}
                  max={most}
                  step={1}
                  placeholder={most === undefined ? 'service setting' : `${most} (service)`}
                  value={lifetimes[key]}
                  onChange={(e) => setLifetimes((previous) => ({ ...previous, [key]: e.target.value }))}
                />
              )}
            </Field>
          );
        })}
      </fieldset>
      <ErrorBanner error={error instanceof ApiError && error.details.length > 0 ? null : error} />
      {saved && <p className="banner banner--info" role="status">Saved.</p>}
      <div className="actions">
        <button type="submit" className="button button--primary" disabled={busy}>{busy ? 'Saving…' : 'Save account settings'}</button>
      </div>
    </form>
  );
}

function MailSettingsCard({ app }: { app: App }) {
  const [settings, setSettings] = useState<MailSettings | null>(null);
  const [form, setForm] = useState<MailForm | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);

  useEffect(() => {
    const controller = new AbortController();
    api
      .getMailSettings(app.sourceAppId, controller.signal)
      .then((loaded) => {
        setSettings(loaded);
        setForm(mailFormFrom(loaded));
      })
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setLoadError(caught);
      });
    return () => controller.abort();
  }, [app.sourceAppId]);

  if (loadError) return <ErrorBanner error={loadError} />;
  if (!settings || !form) return <Spinner label="Loading mail settings…" />;
  return (
    <MailSettingsForm
      app={app}
      settings={settings}
      form={form}
      setForm={setForm}
      onSaved={(saved) => {
        setSettings(saved);
        setForm(mailFormFrom(saved));
      }}
    />
  );
}

interface FormProps {
  app: App;
  settings: MailSettings;
  form: MailForm;
  setForm: (form: MailForm) => void;
  onSaved: (settings: MailSettings) => void;
}

function MailSettingsForm({ app, settings, form, setForm, onSaved }: FormProps) {
  const [kind, setKind] = useState<MailKind>('verify_email');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const draft = form.templates[kind];
  const preview = usePreview(app.sourceAppId, kind, draft.template);

  const body = useMemo(() => mailSettingsBody(form), [form]);
  const dirty = useMemo(() => JSON.stringify(body) !== JSON.stringify(mailSettingsBody(mailFormFrom(settings))), [body, settings]);
  const update = (changes: Partial<MailForm>) => {
    setForm({ ...form, ...changes });
    setSaved(false);
  };
  const setTemplate = (template: MailTemplate, custom: boolean) =>
    update({ templates: { ...form.templates, [kind]: { custom, template } } });

  // A field's problem from the last save, else from the preview (it checks an edited template too).
  const fieldError = (field: string) => detailOf(error, field) ?? (field.startsWith('templates.') ? detailOf(preview.error, field) : undefined);
  const shownFields = new Set(['senderName', ...LINK_TARGETS.map((t) => t.field), ...MAIL_KINDS.flatMap((k) => [`templates.${k}`, ...TEMPLATE_PARTS.map((p) => `templates.${k}.${p.part}`)])]);
  const unshown = error instanceof ApiError ? error.details.filter((d) => !shownFields.has(d.field)) : [];
  const kindsWithErrors = error instanceof ApiError ? MAIL_KINDS.filter((k) => error.details.some((d) => d.field.startsWith(`templates.${k}`) && k !== kind)) : [];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      onSaved(await api.saveMailSettings(app.sourceAppId, body));
      setSaved(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const used = new Set([...placeholders(draft.template.subject), ...placeholders(draft.template.text), ...placeholders(draft.template.html)]);
  const sender = form.senderName.trim() || app.name || app.sourceAppId;
  return (
    <form className="card" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="mail-title" data-testid="mail-settings">
      <h2 id="mail-title">E-mail</h2>
      <p className="hint">
        Verification, password reset and invitation e-mails. How long their links work is a service-wide setting (<code>mail.verify_email_hours</code>, <code>mail.reset_password_minutes</code>, <code>mail.invitation_days</code>), not one of the app’s; the preview’s <code>{'{{expires_in}}'}</code> shows it.
      </p>
      <div className="grid grid--wide">
        <Field label="Sender name" hint={<>From: “{sender}” &lt;{settings.fromAddress}&gt;. Empty: the app’s name.</>} error={fieldError('senderName')}>
          {(control) => <input {...control} name="senderName" value={form.senderName} placeholder={app.name} onChange={(e) => update({ senderName: e.target.value })} />}
        </Field>
        {LINK_TARGETS.map(({ field, label }) => (
          <Field
            key={field}
            label={label}
            hint={<>The link gets <code>?token=</code>. Empty: the service’s own page, <span className="break">{settings.defaults[field]}</span>.</>}
            error={fieldError(field)}
          >
            {(control) => <input {...control} name={field} type="url" value={form[field]} placeholder={settings.defaults[field]} onChange={(e) => update({ [field]: e.target.value })} />}
          </Field>
        ))}
      </div>

      <h3>Templates</h3>
      <div className="segmented segmented--wrap" role="radiogroup" aria-label="Template">
        {MAIL_KINDS.map((name) => (
          <label key={name} className={name === kind ? 'is-active' : undefined}>
            <input type="radio" name="templateKind" value={name} checked={name === kind} onChange={() => setKind(name)} />
            {kindLabel(name)}
            {form.templates[name].custom ? ' ✎' : ''}
          </label>
        ))}
      </div>
      {kindsWithErrors.length > 0 && (
        <p className="field-error" role="alert">See also: {kindsWithErrors.map(kindLabel).join(', ')}.</p>
      )}
      <div className="mail-layout">
        <div data-testid="template-editor">
          <div className="template-head">
            {draft.custom ? (
              <>
                <p className="hint">This app’s own template.</p>
                <button type="button" className="button button--small" onClick={() => setTemplate({ ...settings.defaults.templates[kind] }, false)}>Restore the default</button>
              </>
            ) : (
              <>
                <p className="hint">The built-in template (shown as it is).</p>
                <button type="button" className="button button--small" onClick={() => setTemplate({ ...draft.template }, true)}>Customise</button>
              </>
            )}
          </div>
          {TEMPLATE_PARTS.map(({ part, label, rows }) => {
            const change = (value: string) => setTemplate({ ...draft.template, [part]: value }, true);
            return (
              <Field key={part} label={label} error={fieldError(`templates.${kind}.${part}`)}>
                {(control) =>
                  rows === 1 ? (
                    <input {...control} name={`template-${part}`} value={draft.template[part]} readOnly={!draft.custom} onChange={(e) => change(e.target.value)} />
                  ) : (
                    <textarea {...control} name={`template-${part}`} rows={rows} className="mono" value={draft.template[part]} readOnly={!draft.custom} onChange={(e) => change(e.target.value)} spellCheck={part === 'text'} />
                  )
                }
              </Field>
            );
          })}
          {fieldError(`templates.${kind}`) && <p className="field-error">{fieldError(`templates.${kind}`)}</p>}
          <details className="variables" open>
            <summary>Variables</summary>
            <dl data-testid="variables">
              {settings.variables.map((variable) => (
                <div key={variable.name} className={used.has(variable.name) ? 'variable is-used' : 'variable'}>
                  <dt><code>{`{{${variable.name}}}`}</code></dt>
                  <dd>{variable.description}</dd>
                </div>
              ))}
            </dl>
            <p className="hint">Every value is HTML-escaped in the HTML part. The text or the HTML part must contain <code>{'{{link}}'}</code>.</p>
          </details>
        </div>
        <div>
          <MailPreview preview={preview} />
          <TestSend appId={app.sourceAppId} kind={kind} template={draft.template} />
        </div>
      </div>

      {unshown.length > 0 && <ErrorBanner error={new ApiError(422, '', 'Some values are not valid.', unshown)} />}
      {error !== null && !(error instanceof ApiError && error.details.length > 0) && <ErrorBanner error={error} />}
      {error instanceof ApiError && error.details.length > 0 && unshown.length === 0 && (
        <p className="field-error" role="alert">Not saved: {error.message}</p>
      )}
      {saved && <p className="banner banner--info" role="status">Mail settings saved.</p>}
      <div className="actions actions--center">
        {dirty && <span className="muted small">Unsaved changes</span>}
        <button type="submit" className="button button--primary" disabled={busy}>{busy ? 'Saving…' : 'Save mail settings'}</button>
      </div>
    </form>
  );
}

interface PreviewState {
  mail: RenderedMail | null;
  error: unknown;
  loading: boolean;
}

/** The preview route, asked again once typing pauses; an answer to an older edit is dropped. */
function usePreview(appId: string, kind: MailKind, template: MailTemplate): PreviewState {
  const [state, setState] = useState<PreviewState>({ mail: null, error: null, loading: true });
  const key = JSON.stringify(template);
  useEffect(() => {
    const controller = new AbortController();
    // The last problems were about the text before this edit: they go, the last rendering stays.
    setState((previous) => ({ mail: previous.mail, error: null, loading: true }));
    const timer = window.setTimeout(() => {
      api
        .previewMail(appId, kind, JSON.parse(key) as MailTemplate, controller.signal)
        .then((mail) => setState({ mail, error: null, loading: false }))
        .catch((caught: unknown) => {
          if (!controller.signal.aborted) setState((previous) => ({ mail: previous.mail, error: caught, loading: false }));
        });
    }, PREVIEW_DEBOUNCE_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [appId, kind, key]);
  return state;
}

function MailPreview({ preview }: { preview: PreviewState }) {
  const { mail, error, loading } = preview;
  return (
    <section className="mail-preview" aria-labelledby="preview-title" aria-busy={loading} data-testid="mail-preview">
      <h3 id="preview-title">
        Preview {loading && <span className="muted small">updating…</span>}
      </h3>
      <p className="hint">Sample values; the sender name and the links’ targets are the saved ones.</p>
      {error !== null && (
        <p className="field-error" role="status">The preview is not up to date: {error instanceof Error ? error.message : String(error)}</p>
      )}
      {mail && (
        <>
          <dl className="detail mail-preview__head">
            <dt>From</dt>
            <dd>{mail.from}</dd>
            <dt>Subject</dt>
            <dd data-testid="preview-subject">{mail.subject}</dd>
          </dl>
          <MailBody text={mail.text} html={mail.html} />
        </>
      )}
      {!mail && error === null && <Spinner label="Rendering…" />}
    </section>
  );
}

function TestSend({ appId, kind, template }: { appId: string; kind: MailKind; template: MailTemplate }) {
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [queued, setQueued] = useState<string | null>(null);
  const send = async () => {
    setBusy(true);
    setError(null);
    setQueued(null);
    try {
      await api.sendTestMail(appId, kind, to.trim(), template);
      setQueued(to.trim());
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const toError = detailOf(error, 'to');
  return (
    <section className="test-send" aria-labelledby="test-send-title">
      <h3 id="test-send-title">Send a test</h3>
      <div className="test-send__row">
        <Field className="field--grow" label="Send a test to" error={toError}>
          {(control) => (
            <input
              {...control}
              type="email"
              name="testTo"
              value={to}
              onChange={(e) => setTo(e.target.value)}
              onKeyDown={(e) => {
                // Enter sends the test, not the whole settings form.
                if (e.key === 'Enter') {
                  e.preventDefault();
                  if (to.trim() && !busy) void send();
                }
              }}
              placeholder="you@example.com"
            />
          )}
        </Field>
        <button type="button" className="button" disabled={busy || to.trim() === ''} onClick={() => void send()}>{busy ? 'Sending…' : 'Send test'}</button>
      </div>
      <p className="hint">This template as it is now (saved or not), its subject prefixed with [test]; its link leads nowhere.</p>
      {error !== null && !toError && <ErrorBanner error={error} />}
      {queued && (
        <p className="banner banner--info" role="status">
          Queued for {queued}. Follow it in the <Link href={appPath(appId, 'mail')}>E-mail log</Link>.
        </p>
      )}
    </section>
  );
}
