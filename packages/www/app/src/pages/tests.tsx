// A builder's tests (from its Test steps' parsers), by name, a page at a time: last outcome,
// runs and failures, flaky and muted badges, with filters that are plain URL parameters.
import { list, one } from '../api';
import { Loading } from '../components/common';
import { Outcome, TestBadges } from '../components/test-badges';
import { useAsync, useLiveRead } from '../hooks';
import { Link, navigate } from '../router';

const PAGE = 100;
export type TestFilter = 'all' | 'flaky' | 'muted' | 'failing';
const FILTERS: readonly TestFilter[] = ['all', 'flaky', 'muted', 'failing'];

function filterParams(show: TestFilter): Record<string, string> {
  if (show === 'flaky') return { flaky_until__gt: String(Math.floor(Date.now() / 1000)) };
  if (show === 'muted') return { muted: 'true' };
  if (show === 'failing') return { last_outcome: 'fail' };
  return {};
}

export function Tests({
  builderid,
  show,
  q,
  after,
}: {
  builderid: number;
  show: TestFilter;
  q: string;
  after: string | null;
}) {
  const builder = useAsync(() => one(`/builders/${builderid}`), [builderid]);
  const tests = useLiveRead(
    () =>
      list(`/builders/${builderid}/tests`, {
        order: 'name',
        limit: PAGE,
        ...filterParams(show),
        ...(q ? { name__contains: q } : {}),
        ...(after ? { after } : {}),
      }),
    [builderid, show, q, after],
    // New runs arrive with the builder's builds; mutes on the tests' own topic.
    [`builders.${builderid}.builds`, `builders.${builderid}.tests`],
    1000,
  );
  const url = (s: TestFilter, text: string, cursor?: string) => {
    const p = new URLSearchParams();
    if (s !== 'all') p.set('show', s);
    if (text) p.set('q', text);
    if (cursor) p.set('after', cursor);
    const query = p.toString();
    return `/builders/${builderid}/tests${query ? `?${query}` : ''}`;
  };
  return (
    <main>
      <h1>
        <Link to={`/builders/${builderid}`}>{String(builder.value?.name ?? `Builder ${builderid}`)}</Link>:
        tests
      </h1>
      <form
        class="action-form"
        aria-label="filter tests"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          navigate(url(String(form.get('show')) as TestFilter, String(form.get('q') ?? '').trim()));
        }}
      >
        <input name="q" placeholder="name contains" aria-label="name contains" value={q} data-search />
        <select
          name="show"
          aria-label="show"
          value={show}
          onChange={(e) => e.currentTarget.form?.requestSubmit()}
        >
          {FILTERS.map((f) => (
            <option key={f} value={f}>
              {f === 'all' ? 'all tests' : f}
            </option>
          ))}
        </select>
        <button type="submit">Filter</button>
      </form>
      <Loading state={tests}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">No tests{show === 'all' && !q ? ' recorded yet' : ' match'}.</p>
          ) : (
            <>
              <table class="list" data-testid="tests">
                <thead>
                  <tr>
                    <th>test</th>
                    <th>last</th>
                    <th>runs</th>
                    <th>failures</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((t) => (
                    <tr key={String(t.testid)} data-test={String(t.name)}>
                      <td>
                        <Link to={`/tests/${t.testid}`}>{String(t.name)}</Link>
                      </td>
                      <td>
                        <Outcome outcome={t.last_outcome} />
                      </td>
                      <td>{String(t.runs)}</td>
                      <td>{String(t.failures)}</td>
                      <td>
                        <TestBadges test={t} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <nav class="pager">
                {after ? <Link to={url(show, q)}>first</Link> : null}
                {page.next ? <Link to={url(show, q, page.next)}>next →</Link> : null}
              </nav>
            </>
          )
        }
      </Loading>
    </main>
  );
}

export function parseTestFilter(value: string | null): TestFilter {
  return FILTERS.includes(value as TestFilter) ? (value as TestFilter) : 'all';
}
