// Modal dialog and side drawer: focus moves in on open, Tab stays inside, Escape closes,
// focus returns to what had it before.
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ErrorBanner } from './bits';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Open dialogs, innermost last: only the innermost one answers Escape and Tab. */
const openStack: object[] = [];

function useFocusTrap(onClose: () => void) {
  const ref = useRef<HTMLDivElement>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  useEffect(() => {
    const token = {};
    openStack.push(token);
    const previous = document.activeElement as HTMLElement | null;
    const node = ref.current;
    const first = node?.querySelector<HTMLElement>('[data-autofocus]') ?? node?.querySelector<HTMLElement>(FOCUSABLE);
    (first ?? node)?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (openStack[openStack.length - 1] !== token) return;
      if (event.key === 'Escape') {
        event.preventDefault();
        closeRef.current();
        return;
      }
      if (event.key !== 'Tab' || !node) return;
      const items = Array.from(node.querySelectorAll<HTMLElement>(FOCUSABLE));
      if (items.length === 0) return;
      const firstItem = items[0];
      const lastItem = items[items.length - 1];
      if (event.shiftKey && document.activeElement === firstItem) {
        event.preventDefault();
        lastItem?.focus();
      } else if (!event.shiftKey && document.activeElement === lastItem) {
        event.preventDefault();
        firstItem?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      openStack.splice(openStack.indexOf(token), 1);
      previous?.focus?.();
    };
  }, []);
  return ref;
}

interface Props {
  title: string;
  onClose: () => void;
  children: ReactNode;
  variant?: 'dialog' | 'drawer';
  /** Set while a one-time secret is shown: a click outside does not close. */
  modalOnly?: boolean;
}

export function Dialog({ title, onClose, children, variant = 'dialog', modalOnly = false }: Props) {
  const ref = useFocusTrap(onClose);
  const titleId = useId();
  return (
    <div className={`overlay overlay--${variant}`} onMouseDown={(event) => { if (!modalOnly && event.target === event.currentTarget) onClose(); }}>
      <div ref={ref} className={variant} role="dialog" aria-modal="true" aria-labelledby={titleId} tabIndex={-1}>
        <header className={`${variant}__header`}>
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </header>
        <div className={`${variant}__body`}>{children}</div>
      </div>
    </div>
  );
}

/** "Are you sure?": Cancel has the focus; the action's failure is shown in the dialog. */
export function ConfirmDialog({ title, action, busyAction, onCancel, onConfirm, children }: {
  title: string;
  action: string;
  busyAction: string;
  onCancel: () => void;
  onConfirm: () => Promise<void>;
  children: ReactNode;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };
  return (
    <Dialog title={title} onClose={onCancel}>
      {children}
      <ErrorBanner error={error} />
      <div className="actions">
        <button type="button" className="button" onClick={onCancel} data-autofocus>Cancel</button>
        <button type="button" className="button button--danger" disabled={busy} onClick={() => void confirm()}>
          {busy ? busyAction : action}
        </button>
      </div>
    </Dialog>
  );
}
