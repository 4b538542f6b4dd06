import { useEffect, useState } from 'react';

export interface PageState<T> {
  /** null until the first page arrives; a shown page stays while the next one loads. */
  rows: T[] | null;
  next: string | null;
  loading: boolean;
  error: unknown;
}

/**
 * Loads one page with `load` (memoise it: a new function loads again) and drops the answer of a
 * request that a newer one replaced.
 */
export function usePage<T>(load: (signal: AbortSignal) => Promise<{ rows: T[]; nextCursor: string | null }>): PageState<T> {
  const [state, setState] = useState<PageState<T>>({ rows: null, next: null, loading: true, error: null });
  useEffect(() => {
    const controller = new AbortController();
    setState((previous) => ({ ...previous, loading: true, error: null }));
    load(controller.signal)
      .then((page) => setState({ rows: page.rows, next: page.nextCursor, loading: false, error: null }))
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setState((previous) => ({ ...previous, loading: false, error: caught }));
      });
    return () => controller.abort();
  }, [load]);
  return state;
}
