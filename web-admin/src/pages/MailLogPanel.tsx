import { useCallback, useState } from 'react';
import { api } from '../api/client';
import { MAIL_STATUSES, type App, type MailStatus, type OutboxMessage } from '../api/types';
import { Dialog } from '../components/Dialog';
import { Pager } from '../components/Pager';
import { MailBody } from '../components/MailBody';
import { Empty, ErrorBanner, Spinner } from '../components/bits';
import { firstPage, hasPrevious, pageNumber, type CursorStack } from '../lib/cursorStack';
import { formatDate } from '../lib/format';
import { kindLabel } from '../lib/mail';
import { usePage } from '../lib/usePage';

export const MAIL_PAGE_SIZE = 25;

const STATUS_LABELS: Record<MailStatus, string> = { pending: 'Pending', sent: 'Sent', failed: 'Failed' };

export function MailLogPanel({ app }: { app: App }) {
  const [status, setStatus] = useState<MailStatus | ''>('');
  const [stack, setStack] = useState<CursorStack>(firstPage);
  const [reload, setReload] = useState(0);
  const [open, setOpen] = useState<OutboxMessage | null>(null);

  const load = useCallback(
    async (signal: AbortSignal) => {
      const page = await api.listMail(app.sourceAppId, { limit: MAIL_PAGE_SIZE, ...(stack.current ? { cursor: stack.current } : {}), ...(status ? { status } : {}) }, signal);
      return { rows: page.messages, nextCursor: page.nextCursor };
    },
    // `reload` is Refresh on the first page.
    [app.sourceAppId, stack, status, reload],
  );
  const { rows: messages, next, loading, error } = usePage(load);

  const rows = messages ?? [];
  return (
    <div className="panel" data-testid="mail-log">
      <div className="filters">
        <label className="field">
          <span>Status</span>
          <select
            name="mailStatus"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as MailStatus | '');
              setStack(firstPage);
            }}
          >
            <option value="">All</option>
            {MAIL_STATUSES.map((value) => (
              <option key={value} value={value}>{STATUS_LABELS[value]}</option>
            ))}
          </select>
        </label>
        <div className="filters__buttons">
          <button type="button" className="button" onClick={() => (hasPrevious(stack) ? setStack(firstPage) : setReload((n) => n + 1))}>Refresh</button>
        </div>
        <p className="hint filters__note">
          Newest first. Without an SMTP server (the development mailer) this is the mailbox: open a message to follow its link.
        </p>
      </div>
      <ErrorBanner error={error} />
      <div className="table-wrap" aria-busy={loading}>
        <table className="table mail-table" data-testid="mail-table">
          <caption className="visually-hidden">E-mail log of {app.sourceAppId}, page {pageNumber(stack)}</caption>
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">To</th>
              <th scope="col">Status</th>
              <th scope="col">Kind</th>
              <th scope="col">Created</th>
              <th scope="col" className="num">Attempts</th>
              <th scope="col">Last error</th>
              <th scope="col">Sent</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((message) => (
              <tr key={message.id} data-status={message.status} data-kind={message.kind}>
                <td className="subject">
                  <button type="button" className="link-button" onClick={() => setOpen(message)}>{message.subject}</button>
                </td>
                <td className="email">{message.to}</td>
                <td className="nowrap"><span className={`status status--${message.status}`}>{STATUS_LABELS[message.status] ?? message.status}</span></td>
                <td className="nowrap">{kindLabel(message.kind)}</td>
                <td className="nowrap">{formatDate(message.createdAt)}</td>
                <td className="num">{message.attempts}</td>
                <td title={message.lastError ?? undefined}>{message.lastError ?? '—'}</td>
                <td className="nowrap">{message.sentAt ? formatDate(message.sentAt) : message.nextAttemptAt ? `next try ${formatDate(message.nextAttemptAt)}` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {loading && messages === null && <Spinner label="Loading the e-mail log…" />}
        {!loading && rows.length === 0 && !error && (
          <Empty>
            <p>{status ? `No ${STATUS_LABELS[status].toLowerCase()} messages.` : 'No e-mail yet. Registrations, password resets, invitations and test sends show up here.'}</p>
          </Empty>
        )}
      </div>
      <Pager stack={stack} next={next} loading={loading} reloading={loading && messages !== null} onMove={setStack} labels={['← Newer', 'Older →']} />
      {open && (
        <Dialog title={open.subject} variant="drawer" onClose={() => setOpen(null)}>
          <MessageDetail message={open} />
        </Dialog>
      )}
    </div>
  );
}

function MessageDetail({ message }: { message: OutboxMessage }) {
  return (
    <div data-testid="mail-detail">
      <dl className="detail">
        <dt>Kind</dt>
        <dd>{kindLabel(message.kind)}</dd>
        <dt>From</dt>
        <dd>{message.from}</dd>
        <dt>To</dt>
        <dd>{message.to}</dd>
        <dt>Status</dt>
        <dd><span className={`status status--${message.status}`}>{STATUS_LABELS[message.status] ?? message.status}</span></dd>
        <dt>Attempts</dt>
        <dd>{message.attempts}</dd>
        {message.lastError && (
          <div className="detail__row">
            <dt>Last error</dt>
            <dd>{message.lastError}</dd>
          </div>
        )}
        <dt>Created</dt>
        <dd>{formatDate(message.createdAt)}</dd>
        {message.nextAttemptAt && (
          <div className="detail__row">
            <dt>Next attempt</dt>
            <dd>{formatDate(message.nextAttemptAt)}</dd>
          </div>
        )}
        <dt>Sent</dt>
        <dd>{message.sentAt ? formatDate(message.sentAt) : '—'}</dd>
      </dl>
      <MailBody text={message.text} html={message.html} />
    </div>
  );
}
