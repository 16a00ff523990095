// Keeps one failing part of a page from blanking the whole app: the failure is said in words
// where that part would be (a chart that cannot draw, a page whose code did not download).
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  /** What to show instead, given the error's message. */
  fallback: (message: string) => ReactNode;
  /** Logged with the component stack, for whoever opens the console. */
  what: string;
  children: ReactNode;
}

export class ErrorBoundary extends Component<Props, { error?: string }> {
  override state: { error?: string } = {};

  static getDerivedStateFromError(err: unknown): { error: string } {
    return { error: err instanceof Error ? err.message : String(err) };
  }

  override componentDidCatch(err: unknown, info: ErrorInfo): void {
    console.error(`${this.props.what} failed`, err, info.componentStack);
  }

  override render(): ReactNode {
    return this.state.error === undefined ? this.props.children : this.props.fallback(this.state.error);
  }
}
