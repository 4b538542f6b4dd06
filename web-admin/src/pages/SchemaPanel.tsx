import { useEffect, useMemo, useState } from 'react';
import { ApiError, api } from '../api/client';
import { FIELD_KINDS, type App, type FieldKind, type Schema, type SchemaField, type SchemaImpact, type SchemaVersionEntry } from '../api/types';
import { Dialog } from '../components/Dialog';
import { Empty, ErrorBanner, Spinner } from '../components/bits';
import { formatDate } from '../lib/format';
import { addField, checkDraft, fromSchema, moveField, removeField, toSchemaBody, updateField, type Draft, type DraftField } from '../lib/schemaDraft';

const KIND_LABELS: Record<FieldKind, string> = { text: 'Text', number: 'Number', select: 'Choice (select)', date: 'Date', checkbox: 'Checkbox' };

export function SchemaPanel({ app, schema, onSaved }: { app: App; schema: Schema; onSaved: (schema: Schema) => void }) {
  const [draft, setDraft] = useState<Draft>(() => fromSchema(schema));
  const [review, setReview] = useState<{ impact: SchemaImpact } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [versionsKey, setVersionsKey] = useState(0);
  const problems = useMemo(() => checkDraft(draft), [draft]);
  const body = useMemo(() => toSchemaBody(draft), [draft]);
  const dirty = JSON.stringify(body) !== JSON.stringify(toSchemaBody(fromSchema(schema)));

  const serverDetail = (index: number): string[] => {
    if (!(error instanceof ApiError)) return [];
    return error.details.filter((d) => d.field.startsWith(`fields[${index}]`) || d.field.startsWith(`fields.${index}`)).map((d) => d.message);
  };

  const check = async () => {
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      setReview({ impact: await api.dryRunSchema(app.sourceAppId, body) });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      const result = await api.saveSchema(app.sourceAppId, body);
      const next: Schema = result && typeof result.version === 'number' ? result : await api.getSchema(app.sourceAppId);
      onSaved(next);
      setDraft(fromSchema(next));
      setReview(null);
      setSaved(`Saved as version ${next.version}.`);
      setVersionsKey((n) => n + 1);
    } catch (caught) {
      setReview(null);
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="panel schema-layout">
      <div className="schema-editor">
        <div className="page-head">
          <h2>Fields <span className="muted small">current version {schema.version}</span></h2>
        </div>
        {draft.fields.length === 0 && (
          <Empty>
            <p>No fields yet: sign-ups carry only an email. Add the fields your form collects.</p>
          </Empty>
        )}
        <ol className="field-list">
          {draft.fields.map((field, index) => (
            <FieldEditor
              key={field.uid}
              field={field}
              index={index}
              count={draft.fields.length}
              problems={[...(problems.get(index) ?? []), ...serverDetail(index)]}
              onChange={(patch) => setDraft(updateField(draft, index, patch))}
              onMove={(delta) => setDraft(moveField(draft, index, delta))}
              onRemove={() => setDraft(removeField(draft, index))}
            />
          ))}
        </ol>
        <div className="actions actions--start">
          <button type="button" className="button" onClick={() => setDraft(addField(draft))}>+ Add field</button>
          <label className="check">
            <input type="checkbox" checked={draft.rejectUnknown} onChange={(e) => setDraft({ ...draft, rejectUnknown: e.target.checked })} />
            Reject submissions with unknown fields (otherwise they are dropped)
          </label>
        </div>
        <ErrorBanner error={error} />
        {saved && <p className="banner banner--info" role="status">{saved}</p>}
        <div className="actions actions--sticky">
          <button type="button" className="button" disabled={!dirty || busy} onClick={() => { setDraft(fromSchema(schema)); setError(null); }}>
            Discard changes
          </button>
          <button type="button" className="button button--primary" disabled={!dirty || busy || problems.size > 0} onClick={() => void check()}>
            {busy && !review ? 'Checking…' : 'Review and save…'}
          </button>
        </div>
      </div>
      <aside className="schema-side">
        <section aria-labelledby="preview-title" className="card">
          <h2 id="preview-title">Preview</h2>
          <p className="hint">The form a site renders from this schema.</p>
          <FormPreview fields={body.fields} />
        </section>
        <VersionHistory key={versionsKey} appId={app.sourceAppId} />
      </aside>
      {review && (
        <Dialog title="Save the new schema?" onClose={() => setReview(null)}>
          <ImpactReport impact={review.impact} />
          <div className="actions">
            <button type="button" className="button" onClick={() => setReview(null)} data-autofocus>Keep editing</button>
            <button type="button" className="button button--primary" disabled={busy} onClick={() => void save()}>
              {busy ? 'Saving…' : `Save as version ${schema.version + 1}`}
            </button>
          </div>
        </Dialog>
      )}
    </div>
  );
}

function ImpactReport({ impact }: { impact: SchemaImpact }) {
  if (impact.failing === 0) {
    return (
      <p className="banner banner--info" data-testid="impact">
        All {impact.checked} stored record{impact.checked === 1 ? '' : 's'} pass the new schema.
      </p>
    );
  }
  return (
    <div className="banner banner--warning" data-testid="impact">
      <p>
        <strong>{impact.failing}</strong> of {impact.checked} stored records would not pass the new schema. They are kept as they are; new and updated
        sign-ups must pass it.
      </p>
      {impact.examples.length > 0 && (
        <>
          <p>For example:</p>
          <ul className="mono small">
            {impact.examples.map((id) => <li key={id}>{id}</li>)}
          </ul>
        </>
      )}
    </div>
  );
}

interface FieldEditorProps {
  field: DraftField;
  index: number;
  count: number;
  problems: string[];
  onChange: (patch: Partial<DraftField>) => void;
  onMove: (delta: -1 | 1) => void;
  onRemove: () => void;
}

function FieldEditor({ field, index, count, problems, onChange, onMove, onRemove }: FieldEditorProps) {
  const id = `field-${field.uid}`;
  const name = field.label || field.key || `field ${index + 1}`;
  return (
    <li className="field-card" aria-labelledby={`${id}-title`}>
      <div className="field-card__head">
        <h3 id={`${id}-title`} className="small">{index + 1}. {name}</h3>
        <div className="field-card__tools">
          <button type="button" className="icon-button" aria-label={`Move ${name} up`} disabled={index === 0} onClick={() => onMove(-1)}>↑</button>
          <button type="button" className="icon-button" aria-label={`Move ${name} down`} disabled={index === count - 1} onClick={() => onMove(1)}>↓</button>
          <button type="button" className="icon-button icon-button--danger" aria-label={`Remove ${name}`} onClick={onRemove}>✕</button>
        </div>
      </div>
      <div className="grid">
        <label className="field">
          <span>Key</span>
          <input value={field.key} onChange={(e) => onChange({ key: e.target.value })} spellCheck={false} autoCapitalize="off" className="mono" name={`key-${index}`} />
        </label>
        <label className="field">
          <span>Label</span>
          <input value={field.label} onChange={(e) => onChange({ label: e.target.value })} name={`label-${index}`} />
        </label>
        <label className="field">
          <span>Kind</span>
          <select value={field.kind} onChange={(e) => onChange({ kind: e.target.value as FieldKind })} name={`kind-${index}`}>
            {FIELD_KINDS.map((kind) => <option key={kind} value={kind}>{KIND_LABELS[kind]}</option>)}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={field.required} onChange={(e) => onChange({ required: e.target.checked })} name={`required-${index}`} />
          {field.kind === 'checkbox' ? 'Must be ticked (consent)' : 'Required'}
        </label>
      </div>
      <div className="grid">
        {field.kind === 'text' && (
          <>
            <label className="field"><span>Min length</span><input type="number" min={0} inputMode="numeric" value={field.minLength} onChange={(e) => onChange({ minLength: e.target.value })} /></label>
            <label className="field"><span>Max length</span><input type="number" min={0} inputMode="numeric" value={field.maxLength} onChange={(e) => onChange({ maxLength: e.target.value })} /></label>
            <label className="field field--wide"><span>Pattern (regular expression, whole value)</span><input className="mono" value={field.regex} onChange={(e) => onChange({ regex: e.target.value })} spellCheck={false} /></label>
          </>
        )}
        {field.kind === 'number' && (
          <>
            <label className="field"><span>Minimum</span><input type="number" value={field.min} onChange={(e) => onChange({ min: e.target.value })} /></label>
            <label className="field"><span>Maximum</span><input type="number" value={field.max} onChange={(e) => onChange({ max: e.target.value })} /></label>
            <label className="check"><input type="checkbox" checked={field.integer} onChange={(e) => onChange({ integer: e.target.checked })} />Whole numbers only</label>
          </>
        )}
        {field.kind === 'date' && (
          <>
            <label className="field"><span>Earliest date</span><input type="date" value={field.min} onChange={(e) => onChange({ min: e.target.value })} /></label>
            <label className="field"><span>Latest date</span><input type="date" value={field.max} onChange={(e) => onChange({ max: e.target.value })} /></label>
          </>
        )}
        {field.kind === 'select' && (
          <label className="field field--wide">
            <span>Options (one per line)</span>
            <textarea rows={3} value={field.options} onChange={(e) => onChange({ options: e.target.value })} name={`options-${index}`} />
          </label>
        )}
      </div>
      {problems.length > 0 && (
        <ul className="field-error" role="alert">
          {problems.map((problem, i) => <li key={i}>{problem}</li>)}
        </ul>
      )}
    </li>
  );
}

export function FormPreview({ fields }: { fields: SchemaField[] }) {
  return (
    <form className="preview" onSubmit={(e) => e.preventDefault()} aria-label="Form preview" data-testid="form-preview">
      <label className="field">
        <span>Email <span aria-hidden="true" className="req">*</span></span>
        <input type="email" placeholder="ada@example.com" />
      </label>
      {fields.map((field, index) => {
        const label = (
          <>
            {field.label || field.key || `Field ${index + 1}`}
            {field.required && <span aria-hidden="true" className="req"> *</span>}
          </>
        );
        const key = `${field.key}-${index}`;
        switch (field.kind) {
          case 'checkbox':
            return <label key={key} className="check"><input type="checkbox" required={field.required} />{label}</label>;
          case 'select':
            return (
              <label key={key} className="field"><span>{label}</span>
                <select required={field.required} defaultValue="">
                  <option value="" disabled>Choose…</option>
                  {(field.enum ?? []).map((option) => <option key={option}>{option}</option>)}
                </select>
              </label>
            );
          case 'number':
            return <label key={key} className="field"><span>{label}</span><input type="number" required={field.required} min={field.min as number | undefined} max={field.max as number | undefined} step={field.integer ? 1 : 'any'} /></label>;
          case 'date':
            return <label key={key} className="field"><span>{label}</span><input type="date" required={field.required} min={field.min as string | undefined} max={field.max as string | undefined} /></label>;
          default:
            return <label key={key} className="field"><span>{label}</span><input type="text" required={field.required} minLength={field.minLength} maxLength={field.maxLength} /></label>;
        }
      })}
      <button type="submit" className="button button--primary" disabled>Sign up</button>
    </form>
  );
}

function VersionHistory({ appId }: { appId: string }) {
  const [versions, setVersions] = useState<SchemaVersionEntry[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const controller = new AbortController();
    api.schemaVersions(appId, controller.signal).then(setVersions, (caught: unknown) => { if (!controller.signal.aborted) setError(caught); });
    return () => controller.abort();
  }, [appId]);
  return (
    <section aria-labelledby="versions-title" className="card">
      <h2 id="versions-title">Version history</h2>
      <ErrorBanner error={error} />
      {versions === null && !error && <Spinner label="Loading versions…" />}
      {versions !== null && versions.length === 0 && <p className="muted">No saved versions yet.</p>}
      {versions !== null && versions.length > 0 && (
        <ol className="versions" data-testid="versions">
          {versions.map((entry) => {
            const fields = entry.fields ?? entry.schema?.fields ?? [];
            return (
              <li key={entry.version}>
                <strong>Version {entry.version}</strong> <span className="muted">{formatDate(entry.createdAt)}</span>
                <div className="small muted">{fields.length === 0 ? 'no fields' : fields.map((f) => f.key).join(', ')}</div>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}

