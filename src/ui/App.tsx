// The app shell: header with the three audiences' pages, and the page for the current path.
import { useEffect, type ReactNode } from 'react';
import { DashboardPage } from './pages/DashboardPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { VolunteerPage } from './pages/VolunteerPage';
import { WalletPage } from './pages/WalletPage';
import { Link, ROUTES, usePath } from './router';

const PAGES: Record<string, { title: string; render: () => ReactNode }> = {
  '/': { title: 'Volunteer', render: () => <VolunteerPage /> },
  '/wallet': { title: 'Wallet', render: () => <WalletPage /> },
  '/dashboard': { title: 'Dashboard', render: () => <DashboardPage /> },
};

export function App(): ReactNode {
  const path = usePath();
  const page = PAGES[path];
  useEffect(() => {
    document.title = `${page ? page.title : 'Not found'} · Tessera`;
  }, [page]);
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
      <main id="main" tabIndex={-1}>
        {page ? page.render() : <NotFoundPage path={path} />}
      </main>
    </>
  );
}
