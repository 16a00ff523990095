// The app shell: header with the three audiences' pages, and the page for the current path.
// Each page is its own chunk: a dashboard viewer downloads no WebGPU, WebRTC or wallet code.
import { lazy, Suspense, useEffect, useRef, type ReactNode } from 'react';
import { ErrorBoundary } from './ErrorBoundary';
import { NotFoundPage } from './pages/NotFoundPage';
import { Link, ROUTES, usePath } from './router';

const VolunteerPage = lazy(() => import('./pages/VolunteerPage').then((m) => ({ default: m.VolunteerPage })));
const WalletPage = lazy(() => import('./pages/WalletPage').then((m) => ({ default: m.WalletPage })));
const DashboardPage = lazy(() => import('./pages/DashboardPage').then((m) => ({ default: m.DashboardPage })));

const PAGES: Record<string, { title: string; render: () => ReactNode }> = {
  '/': { title: 'Volunteer', render: () => <VolunteerPage /> },
  '/wallet': { title: 'Wallet', render: () => <WalletPage /> },
  '/dashboard': { title: 'Dashboard', render: () => <DashboardPage /> },
};

/** A page chunk that fails to download (offline, or the server was updated meanwhile) is said in words. */
function PageError({ message }: { message: string }): ReactNode {
  return (
    <div className="card card-warning" role="alert" data-testid="page-error">
      <h2>This page could not be loaded</h2>
      <p>{message}</p>
      <p>Check the connection and reload; if the server was just updated, a reload fetches the new version.</p>
    </div>
  );
}

function PageLoading(): ReactNode {
  return (
    <p className="note" role="status" data-testid="page-loading">
      Loading the page…
    </p>
  );
}

export function App(): ReactNode {
  const path = usePath();
  const page = PAGES[path];
  const main = useRef<HTMLElement>(null);
  const shown = useRef(path);
  useEffect(() => {
    document.title = `${page ? page.title : 'Not found'} · Tessera`;
  }, [page]);
  // A client-side route change moves focus to the new page (as a page load would put a screen
  // reader and the Tab order at its top); the first page a visitor opens keeps the default.
  useEffect(() => {
    if (shown.current === path) return;
    shown.current = path;
    main.current?.focus({ preventScroll: true });
  }, [path]);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <span className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} /> Tessera
        </span>
        <nav aria-label="Main">
          {ROUTES.map((r) => (
            <Link key={r.path} to={r.path} current={r.path === path}>
              {r.label}
            </Link>
          ))}
        </nav>
      </header>
      <main id="main" tabIndex={-1} ref={main} aria-label={page ? page.title : 'Not found'}>
        <ErrorBoundary key={path} what="page" fallback={(message) => <PageError message={message} />}>
          <Suspense fallback={<PageLoading />}>{page ? page.render() : <NotFoundPage path={path} />}</Suspense>
        </ErrorBoundary>
      </main>
    </>
  );
}
