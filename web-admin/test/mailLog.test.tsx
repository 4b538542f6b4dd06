// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboxMessage } from '../src/api/types';
import { MailLogPanel } from '../src/pages/MailLogPanel';
import { app, fakeApi, json } from './fakeApi';

afterEach(cleanup);

function message(n: number, changes: Partial<OutboxMessage> = {}): OutboxMessage {
  return {
    id: `m${n}`,
    kind: 'verify_email',
    from: '"Site" <no-reply@example.com>',
    to: `user${n}@example.com`,
    subject: `Confirm ${n}`,
    text: `Hello,\n\nopen http://localhost:3000/account/verify-email?token=tok${n}.\n`,
    html: `<p id="mail-${n}">Hello <a href="http://localhost:3000/account/verify-email?token=tok${n}">confirm</a></p>`,
    status: 'sent',
    attempts: 1,
    lastError: null,
    createdAt: '2026-12-01T10:00:00Z',
    nextAttemptAt: null,
    sentAt: '2026-12-01T10:00:01Z',
    ...changes,
  };
}

describe('e-mail log', () => {
  it('pages to older messages and back, and filters by status', async () => {
    const calls = fakeApi(({ path }) => {
      const url = new URL(path, 'http://x');
      if (url.pathname !== '/v1/apps/site/mail/messages') return undefined;
      if (url.searchParams.get('status') === 'failed')
        return json(200, { messages: [message(9, { status: 'failed', attempts: 8, lastError: '550 no such mailbox', kind: 'reset_password', sentAt: null })], nextCursor: null });
      if (url.searchParams.get('cursor') === 'c2') return json(200, { messages: [message(3)], nextCursor: null });
      return json(200, { messages: [message(1), message(2)], nextCursor: 'c2' });
    });
    render(<MailLogPanel app={app} />);
    const table = await screen.findByTestId('mail-table');
    await within(table).findByText('Confirm 1');
    expect(within(table).getByText('user2@example.com')).toBeTruthy();
    expect(calls[0]?.path).toBe('/v1/apps/site/mail/messages?limit=25');

    fireEvent.click(screen.getByRole('button', { name: 'Older →' }));
    await within(table).findByText('Confirm 3');
    expect(calls.at(-1)?.path).toBe('/v1/apps/site/mail/messages?limit=25&cursor=c2');
    expect((screen.getByRole('button', { name: 'Older →' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: '← Newer' }));
    await within(table).findByText('Confirm 1');

    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'failed' } });
    await within(table).findByText('550 no such mailbox');
    expect(calls.at(-1)?.path).toBe('/v1/apps/site/mail/messages?limit=25&status=failed');
    const row = within(table).getByText('Confirm 9').closest('tr') as HTMLElement;
    expect(within(row).getByText('Failed')).toBeTruthy();
    expect(within(row).getByText('Password reset')).toBeTruthy();
    expect(within(row).getByText('8')).toBeTruthy();
  });

  it('opens a message: its text with the link to follow, its HTML in a sandboxed frame', async () => {
    fakeApi(({ path }) => (path.startsWith('/v1/apps/site/mail/messages') ? json(200, { messages: [message(1)], nextCursor: null }) : undefined));
    render(<MailLogPanel app={app} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Confirm 1' }));
    const drawer = screen.getByRole('dialog', { name: 'Confirm 1' });
    const link = within(drawer).getByRole('link', { name: 'http://localhost:3000/account/verify-email?token=tok1' });
    expect(link.getAttribute('href')).toBe('http://localhost:3000/account/verify-email?token=tok1');
    expect(within(drawer).getByTestId('mail-text').textContent).toContain('?token=tok1.');
    const frame = within(drawer).getByTitle('HTML part');
    expect(frame.getAttribute('sandbox')).toBe('');
    expect(frame.getAttribute('srcdoc')).toContain('id="mail-1"');
    expect(document.getElementById('mail-1')).toBeNull();
    fireEvent.keyDown(document, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it('says so when there is no mail yet', async () => {
    fakeApi(() => json(200, { messages: [], nextCursor: null }));
    render(<MailLogPanel app={app} />);
    expect(await screen.findByText(/No e-mail yet/)).toBeTruthy();
  });
});
