import { useCallback, useRef, useState, type FormEvent } from 'react';
import { api, exportUrl } from '../api/client';
import type { App, Schema, UserRecord } from '../api/types';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { Pager } from '../components/Pager';
import { Empty, ErrorBanner, Spinner } from '../components/bits';
import { firstPage, hasPrevious, pageNumber, previousPage, type CursorStack } from '../lib/cursorStack';
import { dayToInstant, formatDate, formatValue } from '../lib/format';
import { usePage } from '../lib/usePage';

export const PAGE_SIZE = 25;
const MAX_COLUMNS = 6;

interface Filters {
  q: string;
  from: string;
  to: string;
}

export function UsersPanel({ app, schema }: { app: App; schema: Schema }) {
  const [filters, setFilters] = useState<Filters>({ q: '', from: '', to: '' });
  const [draftFilters, setDraftFilters] = useState<Filters>(filters);
  const [stack, setStack] = useState<CursorStack>(firstPage);
  const [selected, setSelected] = useState<UserRecord | null>(null);
  const [erasing, setErasing] = useState<UserRecord | null>(null);
  const [reload, setReload] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const tableRef = useRef<HTMLTableElement>(null);

  const columns = schema.fields.slice(0, MAX_COLUMNS);

  const load = useCallback(
    async (signal: AbortSignal) => {
      const page = await api.listUsers(
        app.sourceAppId,
        {
          limit: PAGE_SIZE,
          ...(stack.current ? { cursor: stack.current } : {}),
          ...(filters.q.trim() ? { q: filters.q.trim() } : {}),
          ...(dayToInstant(filters.from, false) ? { createdAfter: dayToInstant(filters.from, false) } : {}),
          ...(dayToInstant(filters.to, true) ? { createdBefore: dayToInstant(filters.to, true) } : {}),
        },
        signal,
      );
      return { rows: page.users, nextCursor: page.nextCursor };
    },
    // `reload` asks for the same page again (after an erasure).
    [app.sourceAppId, stack, filters, reload],
  );
  const { rows: users, next, loading, error } = usePage(load);

  const applyFilters = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draftFilters);
    setStack(firstPage);
  };
  const clearFilters = () => {
    const empty = { q: '', from: '', to: '' };
    setDraftFilters(empty);
    setFilters(empty);
    setStack(firstPage);
  };

  const erase = useCallback(
    async (user: UserRecord) => {
      await api.deleteUser(app.sourceAppId, user.id);
      setErasing(null);
      setSelected(null);
      setNotice(`${user.email} was erased.`);
      // Stay on the page: an emptied page that is not the first goes one back.
      if (users && users.length === 1 && hasPrevious(stack)) setStack(previousPage(stack));
      else setReload((n) => n + 1);
    },
    [app.sourceAppId, users, stack],
  );

  const filtered = filters.q !== '' || filters.from !== '' || filters.to !== '';
  const rows = users ?? [];

  return (
    <div className="panel">
      <form className="filters" role="search" onSubmit={applyFilters}>
        <label className="field field--grow">
          <span>Search by email</span>
          <input type="search" name="q" value={draftFilters.q} onChange={(e) => setDraftFilters({ ...draftFilters, q: e.target.value })} placeholder="ada@" />
        </label>
        <label className="field">
          <span>Created from</span>
          <input type="date" name="createdFrom" value={draftFilters.from} onChange={(e) => setDraftFilters({ ...draftFilters, from: e.target.value })} />
        </label>
        <label className="field">
          <span>Created to</span>
          <input type="date" name="createdTo" value={draftFilters.to} onChange={(e) => setDraftFilters({ ...draftFilters, to: e.target.value })} />
        </label>
        <div className="filters__buttons">
          <button type="submit" className="button button--primary">Search</button>
          {filtered && <button type="button" className="button" onClick={clearFilters}>Clear</button>}
        </div>
        <div className="filters__export" role="group" aria-label="Export all users">
          <a className="button" href={exportUrl(app.sourceAppId, 'csv')} download data-testid="export-csv">Export CSV</a>
          <a className="button" href={exportUrl(app.sourceAppId, 'ndjson')} download data-testid="export-ndjson">Export NDJSON</a>
        </div>
      </form>
      {notice && <p className="banner banner--info" role="status">{notice}</p>}
      <ErrorBanner error={error} />
      {/* A full page's height is kept only when there are pages to move between (the pager then stays put); a few rows get no empty block under them. */}
      <div className={hasPrevious(stack) || next ? 'table-wrap table-wrap--fixed' : 'table-wrap'} aria-busy={loading}>
        <table className="table users-table" ref={tableRef} data-testid="users-table">
          <caption className="visually-hidden">Users of {app.sourceAppId}, page {pageNumber(stack)}</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              {columns.map((field) => (
                <th scope="col" key={field.key}>{field.label || field.key}</th>
              ))}
              <th scope="col">Created</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {rows.map((user) => (
              <tr key={user.id}>
                <td className="email">
                  <button type="button" className="link-button" onClick={() => setSelected(user)}>{user.email}</button>
                </td>
                {columns.map((field) => (
                  <td key={field.key}>{formatValue(user.data[field.key])}</td>
                ))}
                <td className="nowrap">{formatDate(user.createdAt)}</td>
                <td className="row-actions">
                  <button type="button" className="button button--small button--danger" onClick={() => setErasing(user)} aria-label={`Erase ${user.email}`}>
                    Erase
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {loading && users === null && <Spinner label="Loading users…" />}
        {!loading && rows.length === 0 && !error && (
          <Empty>
            {filtered ? <p>No users match these filters.</p> : <p>No sign-ups yet. See “Connect your site” to start collecting them.</p>}
          </Empty>
        )}
      </div>
      <Pager stack={stack} next={next} loading={loading} reloading={loading && users !== null} onMove={setStack} />
      {selected && (
        <Dialog title={selected.email} variant="drawer" onClose={() => setSelected(null)}>
          <UserDetail user={selected} schema={schema} onErase={() => setErasing(selected)} />
        </Dialog>
      )}
      {erasing && <EraseDialog user={erasing} onCancel={() => setErasing(null)} onConfirm={() => erase(erasing)} />}
    </div>
  );
}

function UserDetail({ user, schema, onErase }: { user: UserRecord; schema: Schema; onErase: () => void }) {
  const known = new Set(schema.fields.map((f) => f.key));
  const extra = Object.keys(user.data).filter((key) => !known.has(key));
  return (
    <div data-testid="user-detail">
      <dl className="detail">
        <dt>Email</dt>
        <dd>{user.email}</dd>
        {schema.fields.map((field) => (
          <div key={field.key} className="detail__row">
            <dt>{field.label || field.key}</dt>
            <dd>{formatValue(user.data[field.key])}</dd>
          </div>
        ))}
        {extra.map((key) => (
          <div key={key} className="detail__row">
            <dt>{key} <span className="muted">(not in the current schema)</span></dt>
            <dd>{formatValue(user.data[key])}</dd>
          </div>
        ))}
        <dt>Id</dt>
        <dd className="mono">{user.id}</dd>
        <dt>Schema version</dt>
        <dd>{user.schemaVersion}</dd>
        <dt>Created</dt>
        <dd>{formatDate(user.createdAt)}</dd>
        <dt>Updated</dt>
        <dd>{formatDate(user.updatedAt)}</dd>
      </dl>
      <div className="actions">
        <button type="button" className="button button--danger" onClick={onErase}>Erase this user</button>
      </div>
    </div>
  );
}

function EraseDialog({ user, onCancel, onConfirm }: { user: UserRecord; onCancel: () => void; onConfirm: () => Promise<void> }) {
  return (
    <ConfirmDialog title="Erase user?" action="Erase" busyAction="Erasing…" onCancel={onCancel} onConfirm={onConfirm}>
      <p>
        <strong>{user.email}</strong> and everything stored about them will be deleted for good. This cannot be undone.
      </p>
    </ConfirmDialog>
  );
}
