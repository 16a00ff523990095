// Shown for any path that is not one of the app's pages.
import type { ReactNode } from 'react';
import { Link } from '../router';

export function NotFoundPage(props: { path: string }): ReactNode {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{props.path}</code>. Go to the{' '}
        <Link to="/" current={false}>
          Volunteer page
        </Link>
        .
      </p>
    </section>
  );
}
