// Keyset paging state: the cursors of the pages already seen, so Previous needs no offset and
// the client never loads more than one page.

export interface CursorStack {
  /** Cursors of the pages before the current one; the first page's cursor is undefined. */
  readonly previous: ReadonlyArray<string | undefined>;
  /** Cursor that fetched the current page (undefined = first page). */
  readonly current: string | undefined;
}

export const firstPage: CursorStack = { previous: [], current: undefined };

export function nextPage(stack: CursorStack, nextCursor: string): CursorStack {
  return { previous: [...stack.previous, stack.current], current: nextCursor };
}

export function previousPage(stack: CursorStack): CursorStack {
  if (stack.previous.length === 0) return stack;
  return { previous: stack.previous.slice(0, -1), current: stack.previous[stack.previous.length - 1] };
}

export function pageNumber(stack: CursorStack): number {
  return stack.previous.length + 1;
}

export function hasPrevious(stack: CursorStack): boolean {
  return stack.previous.length > 0;
}
