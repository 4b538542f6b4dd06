// The schema editor's model: fields as the form holds them (rule inputs as text, so half-typed
// values survive), with pure helpers to add, move and remove fields and to turn the draft into
// the schema JSON the API takes. The server validates again; this only catches the obvious.
import type { FieldKind, Schema, SchemaDraftBody, SchemaField } from '../api/types';

export interface DraftField {
  /** Stable React key; not sent. */
  uid: string;
  key: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  minLength: string;
  maxLength: string;
  regex: string;
  min: string;
  max: string;
  integer: boolean;
  options: string;
}

export interface Draft {
  rejectUnknown: boolean;
  fields: DraftField[];
}

export const KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
export const MAX_FIELDS = 100;

let counter = 0;
function uid(): string {
  counter += 1;
  return `f${counter}`;
}

export function emptyField(kind: FieldKind = 'text'): DraftField {
  return { uid: uid(), key: '', label: '', kind, required: false, minLength: '', maxLength: '', regex: '', min: '', max: '', integer: false, options: '' };
}

const text = (value: unknown) => (value === undefined || value === null ? '' : String(value));

export function fromSchema(schema: Pick<Schema, 'rejectUnknown' | 'fields'> | undefined): Draft {
  if (!schema) return { rejectUnknown: true, fields: [] };
  return {
    rejectUnknown: schema.rejectUnknown,
    fields: schema.fields.map((field) => ({
      uid: uid(),
      key: field.key,
      label: field.label,
      kind: field.kind,
      required: field.required,
      minLength: text(field.minLength),
      maxLength: text(field.maxLength),
      regex: text(field.regex),
      min: text(field.min),
      max: text(field.max),
      integer: field.integer ?? false,
      options: (field.enum ?? []).join('\n'),
    })),
  };
}

export function addField(draft: Draft, kind: FieldKind = 'text'): Draft {
  return { ...draft, fields: [...draft.fields, emptyField(kind)] };
}

export function removeField(draft: Draft, index: number): Draft {
  return { ...draft, fields: draft.fields.filter((_, i) => i !== index) };
}

export function moveField(draft: Draft, index: number, delta: -1 | 1): Draft {
  const target = index + delta;
  if (target < 0 || target >= draft.fields.length) return draft;
  const fields = draft.fields.slice();
  const [moved] = fields.splice(index, 1);
  if (moved) fields.splice(target, 0, moved);
  return { ...draft, fields };
}

export function updateField(draft: Draft, index: number, patch: Partial<DraftField>): Draft {
  return { ...draft, fields: draft.fields.map((field, i) => (i === index ? { ...field, ...patch } : field)) };
}

export function parseOptions(value: string): string[] {
  return value
    .split(/\n|,/)
    .map((option) => option.trim())
    .filter((option) => option !== '');
}

function toInt(value: string): number | undefined {
  return value.trim() === '' ? undefined : Number(value);
}

/** The schema JSON for PUT /v1/apps/{appId}/schema. Only the rules of each kind are sent. */
export function toSchemaBody(draft: Draft): SchemaDraftBody {
  const fields = draft.fields.map((field): SchemaField => {
    const out: SchemaField = { key: field.key.trim(), label: field.label.trim() || field.key.trim(), kind: field.kind, required: field.required };
    switch (field.kind) {
      case 'text': {
        const minLength = toInt(field.minLength);
        const maxLength = toInt(field.maxLength);
        if (minLength !== undefined) out.minLength = minLength;
        if (maxLength !== undefined) out.maxLength = maxLength;
        if (field.regex !== '') out.regex = field.regex;
        break;
      }
      case 'number': {
        const min = toInt(field.min);
        const max = toInt(field.max);
        if (min !== undefined) out.min = min;
        if (max !== undefined) out.max = max;
        if (field.integer) out.integer = true;
        break;
      }
      case 'date':
        if (field.min.trim() !== '') out.min = field.min.trim();
        if (field.max.trim() !== '') out.max = field.max.trim();
        break;
      case 'select':
        out.enum = parseOptions(field.options);
        break;
      case 'checkbox':
        break;
    }
    return out;
  });
  return { rejectUnknown: draft.rejectUnknown, fields };
}

/** Problems found before asking the server: field index → messages. */
export function checkDraft(draft: Draft): Map<number, string[]> {
  const problems = new Map<number, string[]>();
  const add = (index: number, message: string) => problems.set(index, [...(problems.get(index) ?? []), message]);
  const seen = new Map<string, number>();
  if (draft.fields.length > MAX_FIELDS) add(MAX_FIELDS, `A schema has at most ${MAX_FIELDS} fields.`);
  draft.fields.forEach((field, index) => {
    const key = field.key.trim();
    if (!KEY_PATTERN.test(key)) {
      add(index, 'The key must start with a letter and hold only letters, digits and _ (at most 64 characters).');
    } else if (seen.has(key)) {
      add(index, `The key “${key}” is already used by field ${(seen.get(key) ?? 0) + 1}.`);
    } else {
      seen.set(key, index);
    }
    const numbers: Array<[string, string]> = [];
    if (field.kind === 'text') numbers.push(['Minimum length', field.minLength], ['Maximum length', field.maxLength]);
    if (field.kind === 'number') numbers.push(['Minimum', field.min], ['Maximum', field.max]);
    for (const [name, value] of numbers) {
      if (value.trim() !== '' && !Number.isFinite(Number(value))) add(index, `${name} must be a number.`);
    }
    if (field.kind === 'text') {
      for (const [name, value] of [['Minimum length', field.minLength], ['Maximum length', field.maxLength]] as const) {
        if (value.trim() !== '' && (!Number.isInteger(Number(value)) || Number(value) < 0)) add(index, `${name} must be a whole number, 0 or more.`);
      }
      const lo = toInt(field.minLength);
      const hi = toInt(field.maxLength);
      if (lo !== undefined && hi !== undefined && lo > hi) add(index, 'The minimum length is larger than the maximum length.');
      if (field.regex !== '') {
        try {
          new RegExp(field.regex, 'u');
        } catch {
          add(index, 'The pattern is not a valid regular expression.');
        }
      }
    }
    if (field.kind === 'number') {
      const lo = toInt(field.min);
      const hi = toInt(field.max);
      if (lo !== undefined && hi !== undefined && lo > hi) add(index, 'The minimum is larger than the maximum.');
    }
    if (field.kind === 'date') {
      for (const [name, value] of [['Earliest date', field.min], ['Latest date', field.max]] as const) {
        if (value.trim() !== '' && !DAY_PATTERN.test(value.trim())) add(index, `${name} must be a date (YYYY-MM-DD).`);
      }
      if (field.min && field.max && field.min > field.max) add(index, 'The earliest date is after the latest date.');
    }
    if (field.kind === 'select') {
      const options = parseOptions(field.options);
      if (options.length === 0) add(index, 'A choice needs at least one option.');
      if (new Set(options).size !== options.length) add(index, 'Options must be different from each other.');
    }
  });
  return problems;
}
