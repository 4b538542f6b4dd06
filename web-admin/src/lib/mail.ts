// The auth settings form's state and the e-mail log's text, as pure functions (test/mail.test.ts).
import type { MailKind, MailSettings, MailSettingsBody, MailTemplate } from '../api/types';

export const KIND_LABELS: Record<string, string> = {
  verify_email: 'Email verification',
  reset_password: 'Password reset',
  invitation: 'Invitation',
  test: 'Test',
};

export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind;
}

/** Each link target's member and the page it leads to. */
export const LINK_TARGETS = [
  { field: 'verifyEmailUrl', label: 'Verification link target', kind: 'verify_email' },
  { field: 'resetPasswordUrl', label: 'Password reset link target', kind: 'reset_password' },
  { field: 'acceptInviteUrl', label: 'Invitation link target', kind: 'invitation' },
] as const;

export type LinkField = (typeof LINK_TARGETS)[number]['field'];

/** One kind's template as edited: the built-in one (not editable), or the app's own. */
export interface TemplateDraft {
  custom: boolean;
  template: MailTemplate;
}

export interface MailForm {
  senderName: string;
  verifyEmailUrl: string;
  resetPasswordUrl: string;
  acceptInviteUrl: string;
  templates: Record<MailKind, TemplateDraft>;
}

export function mailFormFrom(settings: MailSettings): MailForm {
  const draft = (kind: MailKind): TemplateDraft => {
    const own = settings.templates[kind];
    return own ? { custom: true, template: { ...own } } : { custom: false, template: { ...settings.defaults.templates[kind] } };
  };
  return {
    senderName: settings.senderName ?? '',
    verifyEmailUrl: settings.verifyEmailUrl ?? '',
    resetPasswordUrl: settings.resetPasswordUrl ?? '',
    acceptInviteUrl: settings.acceptInviteUrl ?? '',
    templates: { verify_email: draft('verify_email'), reset_password: draft('reset_password'), invitation: draft('invitation') },
  };
}

/** The PUT body: empty values are left out (the defaults then apply), and only the app's own templates are sent. */
export function mailSettingsBody(form: MailForm): MailSettingsBody {
  const body: MailSettingsBody = { templates: {} };
  const senderName = form.senderName.trim();
  if (senderName) body.senderName = senderName;
  for (const { field } of LINK_TARGETS) {
    const value = form[field].trim();
    if (value) body[field] = value;
  }
  for (const [kind, draft] of Object.entries(form.templates) as [MailKind, TemplateDraft][]) {
    if (draft.custom) body.templates[kind] = { ...draft.template };
  }
  return body;
}

/** The `{{variables}}` a text uses, in order, once each. */
export function placeholders(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)) found.add(match[1] as string);
  return [...found];
}

export type TextPiece = { text: string; href?: undefined } | { text: string; href: string };

/** A message's text cut into plain pieces and http(s) links, so links can be followed (React escapes every piece). */
export function splitLinks(text: string): TextPiece[] {
  const pieces: TextPiece[] = [];
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"']+/g)) {
    const index = match.index ?? 0;
    // A sentence's closing punctuation is not part of the link.
    const href = match[0].replace(/[.,;:!?)\]]+$/, '');
    if (index > last) pieces.push({ text: text.slice(last, index) });
    pieces.push({ text: href, href });
    last = index + href.length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last) });
  return pieces;
}
