// The app: a top bar, and the page the URL names.
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { refreshMe } from './auth';
import { Login } from './components/login';
import { installKeys } from './keyboard';
import { Build, BuildById } from './pages/build';
import { Builder, readBuilderAhead } from './pages/builder';
import { Builders } from './pages/builders';
import { BuildRequest } from './pages/buildrequest';
import { Changes } from './pages/changes';
import { BuilderCharts } from './pages/charts';
import { Console } from './pages/console';
import { Grid } from './pages/grid';
import { Home } from './pages/home';
import { LogPage } from './pages/log';
import { TestPage } from './pages/test';
import { parseTestFilter, Tests } from './pages/tests';
import { Waterfall } from './pages/waterfall';
import { Workers } from './pages/workers';
import { href, interceptLinks, Link, type Route, Router } from './router';
import './style.css';

const int = (s: string | undefined) => Number(s);

const routes: Route[] = [
  { pattern: /^\/$/, render: () => <Home /> },
  { pattern: /^\/builders\/?$/, render: () => <Builders /> },
  {
    pattern: /^\/builders\/(\d+)\/?$/,
    render: (m, q) => <Builder builderid={int(m[1])} after={q.get('after')} key={m[1]} />,
    readAhead: (m, q) => readBuilderAhead(int(m[1]), q.get('after')),
  },
  {
    pattern: /^\/builders\/(\d+)\/charts\/?$/,
    render: (m) => <BuilderCharts builderid={int(m[1])} key={m[1]} />,
  },
  {
    pattern: /^\/builders\/(\d+)\/builds\/(\d+)\/?$/,
    render: (m) => <Build builderid={int(m[1])} number={int(m[2])} key={`${m[1]}/${m[2]}`} />,
  },
  { pattern: /^\/builds\/(\d+)\/?$/, render: (m) => <BuildById buildid={int(m[1])} key={m[1]} /> },
  {
    pattern: /^\/logs\/(\d+)\/?$/,
    render: (m, q) => {
      const line = q.get('line') ?? location.hash.match(/^#L(\d+)$/)?.[1];
      return <LogPage logid={int(m[1])} line={line ? Number(line) - 1 : undefined} key={m[1]} />;
    },
  },
  {
    pattern: /^\/buildrequests\/(\d+)\/?$/,
    render: (m) => <BuildRequest buildrequestid={int(m[1])} key={m[1]} />,
  },
  {
    pattern: /^\/builders\/(\d+)\/tests\/?$/,
    render: (m, q) => (
      <Tests
        builderid={int(m[1])}
        show={parseTestFilter(q.get('show'))}
        q={q.get('q') ?? ''}
        after={q.get('after')}
        key={m[1]}
      />
    ),
  },
  {
    pattern: /^\/tests\/(\d+)\/?$/,
    render: (m, q) => <TestPage testid={int(m[1])} after={q.get('after')} key={m[1]} />,
  },
  { pattern: /^\/waterfall\/?$/, render: (_m, q) => <Waterfall tag={q.get('tag')} /> },
  { pattern: /^\/console\/?$/, render: (_m, q) => <Console after={q.get('after')} tag={q.get('tag')} /> },
  { pattern: /^\/grid\/?$/, render: (_m, q) => <Grid tag={q.get('tag')} /> },
  { pattern: /^\/workers\/?$/, render: () => <Workers /> },
  { pattern: /^\/changes\/?$/, render: (_m, q) => <Changes after={q.get('after')} /> },
];

type Theme = 'light' | 'dark' | 'auto';

function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>((localStorage.getItem('lathe-theme') as Theme | null) ?? 'auto');
  const next: Record<Theme, Theme> = { auto: 'dark', dark: 'light', light: 'auto' };
  return (
    <button
      type="button"
      class="theme"
      aria-label={`theme: ${theme}`}
      onClick={() => {
        const t = next[theme];
        setTheme(t);
        localStorage.setItem('lathe-theme', t);
        applyTheme(t);
      }}
    >
      {theme === 'auto' ? '◐' : theme === 'dark' ? '☾' : '☀'}
    </button>
  );
}

function applyTheme(theme: Theme): void {
  if (theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

function App() {
  return (
    <>
      <header class="top">
        <nav aria-label="main">
          <Link to="/" class="brand">
            Lathe
          </Link>
          <Link to="/builders">Builders</Link>
          <Link to="/waterfall">Waterfall</Link>
          <Link to="/console">Console</Link>
          <Link to="/grid">Grid</Link>
          <Link to="/workers">Workers</Link>
          <Link to="/changes">Changes</Link>
        </nav>
        <span class="top-right">
          <Login />
          <ThemeToggle />
        </span>
      </header>
      <Router
        routes={routes}
        fallback={
          <main>
            <p class="error">No such page.</p>
          </main>
        }
      />
    </>
  );
}

// Buildbot's UI routes by hash (`#/builders/3/builds/12`); links the master made in that
// form (step URLs from `buildbotURL`) land on the same page here.
if (location.hash.startsWith('#/')) history.replaceState(null, '', href(location.hash.slice(1)));
applyTheme((localStorage.getItem('lathe-theme') as Theme | null) ?? 'auto');
interceptLinks(routes);
installKeys();
void refreshMe();
render(<App />, document.getElementById('app')!);
