import { hasPrevious, nextPage, pageNumber, previousPage, type CursorStack } from '../lib/cursorStack';

/** Keyset paging's buttons: back through the cursors seen, on by the page's `next` cursor. */
export function Pager({ stack, next, loading, reloading, onMove, labels = ['← Previous', 'Next →'] }: {
  stack: CursorStack;
  next: string | null;
  loading: boolean;
  /** A page is shown while the next one loads. */
  reloading: boolean;
  onMove: (stack: CursorStack) => void;
  labels?: readonly [string, string];
}) {
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" className="button" disabled={!hasPrevious(stack) || loading} onClick={() => onMove(previousPage(stack))}>
        {labels[0]}
      </button>
      <span className="pager__info" aria-live="polite">
        Page {pageNumber(stack)}
        {reloading ? ' · loading…' : ''}
      </span>
      <button type="button" className="button" disabled={!next || loading} onClick={() => next && onMove(nextPage(stack, next))}>
        {labels[1]}
      </button>
    </nav>
  );
}
