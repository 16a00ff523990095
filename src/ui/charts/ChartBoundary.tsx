// Keeps one failing chart from blanking the page: the rest of the dashboard stays usable and
// the failure is said in words where the chart would be.
import { Component, type ErrorInfo, type ReactNode } from 'react';

export class ChartBoundary extends Component<{ children: ReactNode }, { error?: string }> {
  override state: { error?: string } = {};

  static getDerivedStateFromError(err: unknown): { error: string } {
    return { error: err instanceof Error ? err.message : String(err) };
  }

  override componentDidCatch(err: unknown, info: ErrorInfo): void {
    console.error('chart failed', err, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.error !== undefined) return <p className="note bad" role="alert">The charts could not be drawn: {this.state.error}</p>;
    return this.props.children;
  }
}
