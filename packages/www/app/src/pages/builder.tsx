// One builder: its history, a page at a time (keyset paging, so page 1,000 costs what
// page 1 does), updated live while the first page is shown.
import { list, one, type Resource, readAhead } from '../api';
import { Loading, Result } from '../components/common';
import { ForceForm } from '../components/force-form';
import { LazyCharts } from '../components/lazy-charts';
import { duration, typicalDuration, when } from '../format';
import { useAsync, useLiveRead } from '../hooks';
import { currentPath, Link } from '../router';

const PAGE = 25;
/** What the builder page charts; its charts page shows every metric. */
const SUMMARY_METRICS = ['build.duration_s', 'warnings', 'tests.total', 'tests.failed'];

const buildsQuery = (after: string | null) => ({ limit: PAGE, ...(after ? { after } : {}) });

/** The page's first reads, started as a link to it is pressed (router.tsx). */
export function readBuilderAhead(builderid: number, after: string | null): void {
  // Paging within the page shown keeps its builder and reads only the builds.
  if (currentPath().replace(/\/$/, '') !== `/builders/${builderid}`) readAhead(`/builders/${builderid}`);
  readAhead(`/builders/${builderid}/builds`, buildsQuery(after));
}

export function Builder({ builderid, after }: { builderid: number; after: string | null }) {
  const builder = useAsync(() => one(`/builders/${builderid}`), [builderid]);
  const builds = useLiveRead(
    () => list(`/builders/${builderid}/builds`, buildsQuery(after)),
    [builderid, after],
    // Only the newest page changes; older pages are history.
    after ? [] : [`builders.${builderid}.builds`],
  );
  return (
    <main>
      <Loading state={builder}>
        {(b) =>
          b === null ? (
            <p class="error">There is no builder {builderid}.</p>
          ) : (
            <>
              <h1>{String(b.name)}</h1>
              {b.description ? <p>{String(b.description)}</p> : null}
              <p class="muted">{((b.tags as string[]) ?? []).map((t) => `#${t}`).join(' ')}</p>
              <p>
                <Link to={`/builders/${builderid}/tests`}>Tests</Link>
              </p>
              <ForceForm builderid={builderid} builderName={String(b.name)} />
            </>
          )
        }
      </Loading>
      <h2>
        Charts{' '}
        <Link to={`/builders/${builderid}/charts`} class="small">
          every metric →
        </Link>
      </h2>
      <LazyCharts builderid={builderid} names={SUMMARY_METRICS} />
      <h2>Builds</h2>
      <Loading state={builds}>
        {(page) => <History builderid={builderid} builds={page.items} next={page.next} first={!after} />}
      </Loading>
    </main>
  );
}

function History({
  builderid,
  builds,
  next,
  first,
}: {
  builderid: number;
  builds: Resource[];
  next: string | undefined;
  first: boolean;
}) {
  if (builds.length === 0) return <p class="muted">No builds yet.</p>;
  const typical = typicalDuration(builds);
  return (
    <>
      {typical !== undefined ? (
        <p class="muted">Typical duration (median of passing builds shown): {duration(typical)}</p>
      ) : null}
      <table class="list" data-testid="builder-history">
        <thead>
          <tr>
            <th>#</th>
            <th>result</th>
            <th>summary</th>
            <th>started</th>
            <th>duration</th>
          </tr>
        </thead>
        <tbody>
          {builds.map((b) => (
            <tr key={String(b.buildid)}>
              <td>
                <Link to={`/builders/${builderid}/builds/${b.number}`}>#{String(b.number)}</Link>
              </td>
              <td>
                <Result results={b.results} complete={b.complete} />
              </td>
              <td>{String(b.state_string)}</td>
              <td>{when(b.started_at as number)}</td>
              <td>{b.complete ? duration((b.complete_at as number) - (b.started_at as number)) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <nav class="pager">
        {!first ? <Link to={`/builders/${builderid}`}>newest</Link> : null}
        {next ? <Link to={`/builders/${builderid}?after=${encodeURIComponent(next)}`}>older →</Link> : null}
      </nav>
    </>
  );
}
