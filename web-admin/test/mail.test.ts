import { describe, expect, it } from 'vitest';
import { mailFormFrom, mailSettingsBody, placeholders, splitLinks } from '../src/lib/mail';
import { mailTemplate as template, settings } from './fakeApi';

describe('mail settings form', () => {
  it('starts from the app’s own values and templates, the defaults elsewhere', () => {
    const form = mailFormFrom(settings);
    expect(form.verifyEmailUrl).toBe('https://acme.example/verify');
    expect(form.resetPasswordUrl).toBe('');
    expect(form.templates.invitation).toEqual({ custom: true, template: template('Join {{organization_name}}') });
    expect(form.templates.verify_email).toEqual({ custom: false, template: template('Confirm') });
  });

  it('sends the whole settings: empty values and built-in templates left out', () => {
    const form = mailFormFrom(settings);
    form.senderName = '  Acme  ';
    form.resetPasswordUrl = '   ';
    form.templates.reset_password = { custom: true, template: template('New password') };
    expect(mailSettingsBody(form)).toEqual({
      senderName: 'Acme',
      verifyEmailUrl: 'https://acme.example/verify',
      templates: { invitation: template('Join {{organization_name}}'), reset_password: template('New password') },
    });
    // Restoring the default drops the template from what is saved.
    form.templates.invitation = { custom: false, template: template('Invited') };
    expect(Object.keys(mailSettingsBody(form).templates)).toEqual(['reset_password']);
  });

  it('names the variables a template uses', () => {
    expect(placeholders('Hi {{name}}, {{ link }} and {{name}} {{not a var}} {{x-y}}')).toEqual(['name', 'link']);
  });

  it('cuts a text into pieces and http(s) links, without the closing punctuation', () => {
    expect(splitLinks('Open http://localhost:3000/account/verify-email?token=abc. Or javascript:alert(1)')).toEqual([
      { text: 'Open ' },
      { text: 'http://localhost:3000/account/verify-email?token=abc', href: 'http://localhost:3000/account/verify-email?token=abc' },
      { text: '. Or javascript:alert(1)' },
    ]);
    expect(splitLinks('no links')).toEqual([{ text: 'no links' }]);
    expect(splitLinks('(https://a.example/x)')).toEqual([{ text: '(' }, { text: 'https://a.example/x', href: 'https://a.example/x' }, { text: ')' }]);
  });
});
