import { Component, type ErrorInfo, type ReactNode } from 'react';

/** Shows a way out instead of a blank page if rendering fails. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('dashboard error', error, info.componentStack);
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <main className="page">
        <div className="banner banner--error" role="alert">
          <p>Something went wrong while showing this page: {this.state.error.message}</p>
        </div>
        <button type="button" className="button" onClick={() => window.location.reload()}>Reload the page</button>
      </main>
    );
  }
}
