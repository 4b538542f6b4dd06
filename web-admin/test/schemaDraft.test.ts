import { describe, expect, it } from 'vitest';
import type { Schema } from '../src/api/types';
import { addField, checkDraft, fromSchema, moveField, removeField, toSchemaBody, updateField } from '../src/lib/schemaDraft';

const designSchema: Schema = {
  version: 3,
  rejectUnknown: true,
  fields: [
    { key: 'fullName', label: 'Full name', kind: 'text', required: true, minLength: 2, maxLength: 80 },
    { key: 'age', label: 'Age', kind: 'number', required: false, min: 13, max: 120, integer: true },
    { key: 'plan', label: 'Plan', kind: 'select', required: true, enum: ['free', 'pro'] },
    { key: 'birthday', label: 'Birthday', kind: 'date', required: false, min: '1900-01-01' },
    { key: 'consentRequired', label: 'I agree to the terms', kind: 'checkbox', required: true },
  ],
};

describe('schema draft', () => {
  it('round-trips the design document’s schema', () => {
    const body = toSchemaBody(fromSchema(designSchema));
    expect(body).toEqual({ rejectUnknown: true, fields: designSchema.fields });
    expect(checkDraft(fromSchema(designSchema)).size).toBe(0);
  });

  it('adds, reorders and removes fields', () => {
    let draft = fromSchema(undefined);
    draft = addField(draft);
    draft = updateField(draft, 0, { key: 'a', label: 'A' });
    draft = addField(draft, 'checkbox');
    draft = updateField(draft, 1, { key: 'b', label: 'B', required: true });
    draft = moveField(draft, 1, -1);
    expect(draft.fields.map((f) => f.key)).toEqual(['b', 'a']);
    expect(moveField(draft, 0, -1)).toBe(draft);
    draft = removeField(draft, 0);
    expect(toSchemaBody(draft).fields).toEqual([{ key: 'a', label: 'A', kind: 'text', required: false }]);
  });

  it('sends only the rules of the chosen kind', () => {
    let draft = addField(fromSchema(undefined));
    draft = updateField(draft, 0, { key: 'n', label: 'N', minLength: '3', regex: 'x+' });
    draft = updateField(draft, 0, { kind: 'number', min: '1', max: '5' });
    expect(toSchemaBody(draft).fields[0]).toEqual({ key: 'n', label: 'N', kind: 'number', required: false, min: 1, max: 5 });
  });

  it('reports obvious problems in words', () => {
    let draft = addField(addField(fromSchema(undefined)), 'select');
    draft = updateField(draft, 0, { key: '1bad', minLength: '5', maxLength: '2' });
    draft = updateField(draft, 1, { key: 'ok', options: 'a\na' });
    const problems = checkDraft(draft);
    expect(problems.get(0)?.join(' ')).toMatch(/must start with a letter/);
    expect(problems.get(0)?.join(' ')).toMatch(/minimum length is larger/);
    expect(problems.get(1)?.join(' ')).toMatch(/different from each other/);
    const dup = updateField(updateField(draft, 0, { key: 'ok', minLength: '', maxLength: '' }), 1, { options: 'a' });
    expect(checkDraft(dup).get(1)?.join(' ')).toMatch(/already used/);
  });
});
