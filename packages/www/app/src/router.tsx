// Plain URLs for every page, relative to the app's <base href>: shareable links, the back
// button, and middle-click all work. Links are ordinary <a href>; a click on one is turned
// into a history push instead of a page load.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** The app-relative path of the current page, e.g. `/builders/3`. */
export function currentPath(): string {
  const base = new URL(document.baseURI).pathname;
  const path = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : location.pathname;
  return `/${path.replace(/^\/+/, '')}`;
}

/** The href of an app path, resolved against the base (so it works under a prefix); its query is kept. */
export function href(path: string): string {
  const url = new URL(path.replace(/^\//, ''), document.baseURI);
  return url.pathname + url.search + url.hash;
}

const listeners = new Set<() => void>();

export function navigate(path: string): void {
  history.pushState(null, '', href(path));
  for (const l of listeners) l();
}

export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const changed = () => setTick((t) => t + 1);
    listeners.add(changed);
    addEventListener('popstate', changed);
    return () => {
      listeners.delete(changed);
      removeEventListener('popstate', changed);
    };
  }, []);
  return { path: currentPath(), query: new URLSearchParams(location.search) };
}

/** The in-app link a plain left press or click `e` is on, or null (the browser's to follow). */
function appLink(e: MouseEvent): HTMLAnchorElement | null {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return null;
  const a = (e.target as Element).closest('a');
  if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin) return null;
  const base = new URL(document.baseURI).pathname;
  if (!a.pathname.startsWith(base)) return null;
  // The API and the login routes (OIDC's redirects) are the master's, not the app's pages.
  const page = a.pathname.slice(base.length);
  if (page.startsWith('api/') || page.startsWith('auth/')) return null;
  return a;
}

/** Starts the first reads of the page `a` leads to, if its route names them. */
function readAheadOf(a: HTMLAnchorElement, routes: readonly Route[]): void {
  const path = `/${a.pathname.slice(new URL(document.baseURI).pathname.length).replace(/^\/+/, '')}`;
  for (const r of routes) {
    const m = path.match(r.pattern);
    if (!m) continue;
    r.readAhead?.(m, new URLSearchParams(a.search));
    return;
  }
}

/**
 * Same-origin left clicks on links stay in the app. The page a link leads to starts its
 * reads as the link is pressed, before the click and before that page renders (removing a
 * large page and drawing the next takes tens of milliseconds the reads need not wait for).
 */
export function interceptLinks(routes: readonly Route[] = []): void {
  document.addEventListener('pointerdown', (e) => {
    const a = appLink(e);
    if (a) readAheadOf(a, routes);
  });
  document.addEventListener('click', (e) => {
    const a = appLink(e);
    if (!a) return;
    e.preventDefault();
    // A click without a press (the keyboard's Enter) reads ahead here; after a press, the
    // reads are under way and this is a no-op.
    readAheadOf(a, routes);
    history.pushState(null, '', a.pathname + a.search + a.hash);
    for (const l of listeners) l();
    scrollTo(0, 0);
  });
}

export interface Route {
  readonly pattern: RegExp;
  readonly render: (m: RegExpMatchArray, query: URLSearchParams) => ComponentChildren;
  /** Starts the page's first reads (`readAhead`) when a link to it is pressed. */
  readonly readAhead?: (m: RegExpMatchArray, query: URLSearchParams) => void;
}

export function Router({ routes, fallback }: { routes: Route[]; fallback: ComponentChildren }) {
  const { path, query } = useLocation();
  for (const r of routes) {
    const m = path.match(r.pattern);
    if (m) return <>{r.render(m, query)}</>;
  }
  return <>{fallback}</>;
}

export function Link({
  to,
  children,
  class: cls,
}: {
  to: string;
  children: ComponentChildren;
  class?: string;
}) {
  return (
    <a href={href(to)} class={cls}>
      {children}
    </a>
  );
}
