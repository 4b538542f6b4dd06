import { describe, expect, it } from 'vitest';

import {
  compilePattern,
  isCalendarDate,
  mapErrorDetails,
  validateEmail,
  validateField,
  validateSubmission,
  type Field,
} from '../src/index.js';
import { exampleSchema } from './helpers.js';

const text = (rules: Partial<Extract<Field, { kind: 'text' }>> = {}): Field => ({ key: 't', label: 'T', kind: 'text', required: false, ...rules });
const number = (rules: Partial<Extract<Field, { kind: 'number' }>> = {}): Field => ({ key: 'n', label: 'N', kind: 'number', required: false, ...rules });
const date = (rules: Partial<Extract<Field, { kind: 'date' }>> = {}): Field => ({ key: 'd', label: 'D', kind: 'date', required: false, ...rules });

describe('required and unanswered', () => {
  it.each([null, '', undefined])('treats %j as unanswered: an error when required, fine when optional', (value) => {
    expect(validateField(text({ required: true }), value)).toEqual({ code: 'required', message: 'is required' });
    expect(validateField(text({ minLength: 5 }), value)).toBeUndefined();
    expect(validateField(number({ required: true }), value)?.code).toBe('required');
  });

  it('counts whitespace as an answer, as the service does', () => {
    expect(validateField(text({ required: true }), ' ')).toBeUndefined();
  });

  it('requires a required checkbox to be ticked', () => {
    const consent: Field = { key: 'c', label: 'C', kind: 'checkbox', required: true };
    expect(validateField(consent, false)).toEqual({ code: 'required', message: 'must be checked' });
    expect(validateField(consent, null)).toEqual({ code: 'required', message: 'is required' });
    expect(validateField(consent, true)).toBeUndefined();
    expect(validateField({ ...consent, required: false }, false)).toBeUndefined();
    expect(validateField(consent, 'yes')).toEqual({ code: 'type', message: 'must be true or false' });
  });
});

describe('text', () => {
  it('counts Unicode code points, not UTF-16 units', () => {
    const field = text({ minLength: 2, maxLength: 3 });
    expect(validateField(field, '😀😀😀')).toBeUndefined(); // 6 UTF-16 units, 3 characters
    expect(validateField(field, '😀😀😀😀')).toEqual({ code: 'maxLength', message: 'must be at most 3 characters' });
    expect(validateField(field, '😀')).toEqual({ code: 'minLength', message: 'must be at least 2 characters' });
  });

  it('requires the regex to match the whole value', () => {
    const field = text({ regex: '[a-z]+' });
    expect(validateField(field, 'abc')).toBeUndefined();
    expect(validateField(field, 'abc1')).toEqual({ code: 'regex', message: 'does not have the expected format' });
    expect(validateField(field, '1abc')?.code).toBe('regex');
  });

  it('anchors alternations as a group', () => {
    const field = text({ regex: 'a|b' });
    expect(validateField(field, 'a')).toBeUndefined();
    expect(validateField(field, 'ab')?.code).toBe('regex');
  });

  it('uses the u flag, so a character class takes whole code points', () => {
    expect(validateField(text({ regex: '.' }), '😀')).toBeUndefined();
    expect(validateField(text({ regex: '\\p{Lu}+' }), 'ÄB')).toBeUndefined();
  });

  it('leaves a regex JavaScript cannot compile to the service', () => {
    expect(compilePattern('(?P<x>a)')).toBeUndefined();
    expect(validateField(text({ regex: '(?P<x>a)' }), 'anything')).toBeUndefined();
  });

  it('refuses a non-string', () => {
    expect(validateField(text(), 5)).toEqual({ code: 'type', message: 'must be a string' });
  });
});

describe('number', () => {
  it('checks finiteness, integer, min and max in the service order', () => {
    const field = number({ min: 13, max: 120, integer: true });
    expect(validateField(field, 36)).toBeUndefined();
    expect(validateField(field, Number.NaN)).toEqual({ code: 'type', message: 'must be a number' });
    expect(validateField(field, Number.POSITIVE_INFINITY)).toEqual({ code: 'type', message: 'must be a number' });
    expect(validateField(field, '36')).toEqual({ code: 'type', message: 'must be a number' });
    expect(validateField(field, 36.5)).toEqual({ code: 'type', message: 'must be a whole number' });
    expect(validateField(field, 12)).toEqual({ code: 'min', message: 'must be at least 13' });
    expect(validateField(field, 121)).toEqual({ code: 'max', message: 'must be at most 120' });
    expect(validateField(number({ min: 0.5 }), 0.25)).toEqual({ code: 'min', message: 'must be at least 0.5' });
    expect(validateField(number(), 0.25)).toBeUndefined();
  });
});

describe('select', () => {
  it('accepts only a listed option', () => {
    const field: Field = { key: 'plan', label: 'Plan', kind: 'select', required: true, enum: ['free', 'pro'] };
    expect(validateField(field, 'pro')).toBeUndefined();
    expect(validateField(field, 'Pro')).toEqual({ code: 'enum', message: 'must be one of: free, pro' });
  });
});

describe('date', () => {
  it('accepts only real calendar dates written YYYY-MM-DD', () => {
    for (const good of ['2024-02-29', '2000-02-29', '1900-01-01', '9999-12-31', '0001-01-01']) {
      expect(isCalendarDate(good), good).toBe(true);
    }
    for (const bad of ['2023-02-29', '1900-02-29', '2024-04-31', '2024-13-01', '2024-00-10', '2024-01-00', '0000-01-01', '2024-1-01', '2024/01/01', '2024-01-01T00:00:00Z', '', '２０２４-01-01']) {
      expect(isCalendarDate(bad), bad).toBe(false);
    }
    expect(validateField(date(), '2023-02-29')).toEqual({ code: 'date', message: 'must be a real date written YYYY-MM-DD' });
  });

  it('checks min and max inclusively', () => {
    const field = date({ min: '1900-01-01', max: '2010-12-31' });
    expect(validateField(field, '1900-01-01')).toBeUndefined();
    expect(validateField(field, '2010-12-31')).toBeUndefined();
    expect(validateField(field, '1899-12-31')).toEqual({ code: 'min', message: 'must be on or after 1900-01-01' });
    expect(validateField(field, '2011-01-01')).toEqual({ code: 'max', message: 'must be on or before 2010-12-31' });
  });
});

describe('email', () => {
  it('follows the HTML5 rule after trimming, like the service', () => {
    expect(validateEmail('  Ada.Lovelace@Example.COM ')).toBeUndefined();
    expect(validateEmail('zoe+news@exämple.org')).toBeUndefined();
    expect(validateEmail('')).toEqual({ code: 'required', message: 'is required' });
    for (const bad of ['plain', '@example.com', 'a@', 'a b@example.com', 'a@@b.com', 'zoë@example.org', `${'a'.repeat(250)}@example.com`]) {
      expect(validateEmail(bad), bad).toEqual({ code: 'email', message: 'must be a valid email address' });
    }
  });
});

describe('validateSubmission', () => {
  it('reports every failing field at once, keyed by email and schema key', () => {
    const errors = validateSubmission(exampleSchema, {
      email: 'nope',
      data: { fullName: 'A', age: 200, plan: 'gold', birthday: '1800-01-01', consentRequired: false },
    });
    expect(Object.keys(errors).sort()).toEqual(['age', 'birthday', 'consentRequired', 'email', 'fullName', 'plan']);
    expect(errors.age).toEqual({ code: 'max', message: 'must be at most 120' });
  });

  it('is empty for a good submission', () => {
    const errors = validateSubmission(exampleSchema, {
      email: 'ada@example.com',
      data: { fullName: 'Ada Lovelace', plan: 'pro', consentRequired: true },
    });
    expect(errors).toEqual({});
  });
});

describe('mapErrorDetails', () => {
  it('maps data.<key> to the key and email to email, and keeps the rest apart', () => {
    const { fieldErrors, unplaced } = mapErrorDetails(
      [
        { field: 'email', code: 'email', message: 'must be a valid email address' },
        { field: 'data.age', code: 'max', message: 'must be at most 120' },
        { field: 'data.age', code: 'type', message: 'second problem, not shown' },
        { field: 'data.extra', code: 'unknown', message: 'is not a field of this form' },
        { field: 'data', code: 'type', message: 'must be an object' },
      ],
      ['age', 'plan'],
    );
    expect(fieldErrors).toEqual({
      email: { code: 'email', message: 'must be a valid email address' },
      age: { code: 'max', message: 'must be at most 120' },
    });
    expect(unplaced.map((detail) => detail.field)).toEqual(['data.extra', 'data']);
  });
});
