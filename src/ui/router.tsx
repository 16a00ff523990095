// Client-side routes with the History API: three pages need no router library.
// Links navigate without reloads; back/forward work; unknown paths show "not found".
import { useEffect, useState, type MouseEvent, type ReactNode } from 'react';

export const ROUTES = [
  { path: '/', label: 'Volunteer' },
  { path: '/wallet', label: 'Wallet' },
  { path: '/dashboard', label: 'Dashboard' },
] as const;

export type RoutePath = (typeof ROUTES)[number]['path'];

const NAVIGATE_EVENT = 'tessera:navigate';

function normalize(pathname: string): string {
  return pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
}

export function usePath(): string {
  const [path, setPath] = useState(() => normalize(window.location.pathname));
  useEffect(() => {
    const update = (): void => setPath(normalize(window.location.pathname));
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATE_EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATE_EVENT, update);
    };
  }, []);
  return path;
}

export function navigate(path: string): void {
  if (normalize(window.location.pathname) === path) return;
  window.history.pushState(null, '', path);
  // A new page starts at its top, as after a load (back/forward restore their own position).
  window.scrollTo(0, 0);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

export function Link(props: { to: string; current: boolean; children: ReactNode }): ReactNode {
  const onClick = (event: MouseEvent<HTMLAnchorElement>): void => {
    // Let the browser handle new-tab and download gestures.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={props.to} onClick={onClick} aria-current={props.current ? 'page' : undefined}>
      {props.children}
    </a>
  );
}
