// One test of a builder: its flaky state and quarantine (mute/unmute by role), its last 10
// failures, and its history a page at a time, each run linked to its build.

import { useState } from 'preact/hooks';
import { list, one, type Resource } from '../api';
import { act, can, useMe } from '../auth';
import { Loading } from '../components/common';
import { Outcome, TestBadges } from '../components/test-badges';
import { when } from '../format';
import { useAsync, useLiveRead } from '../hooks';
import { Link } from '../router';

const PAGE = 50;

export function TestPage({ testid, after }: { testid: number; after: string | null }) {
  const first = useAsync(() => one(`/tests/${testid}`), [testid]);
  const builderid = first.value?.builderid as number | undefined;
  const topics = [`tests.${testid}`, ...(builderid ? [`builders.${builderid}.builds`] : [])];
  const test = useLiveRead(() => one(`/tests/${testid}`), [testid], topics, 1000);
  const failures = useLiveRead(
    () => list(`/tests/${testid}/runs`, { outcome: 'fail', limit: 10 }),
    [testid],
    topics,
    1000,
  );
  const history = useLiveRead(
    () => list(`/tests/${testid}/runs`, { limit: PAGE, ...(after ? { after } : {}) }),
    [testid, after],
    after ? [] : topics,
    1000,
  );
  return (
    <main>
      <Loading state={test}>
        {(t) =>
          t === null ? (
            <p class="error">There is no test {testid}.</p>
          ) : (
            <>
              <p>
                <Link to={`/builders/${t.builderid}/tests`}>← tests of the builder</Link>
              </p>
              <h1 data-testid="test-name">
                {String(t.name)} <TestBadges test={t} />
              </h1>
              <p>
                last <Outcome outcome={t.last_outcome} /> {when(t.last_run_at as number)}; {String(t.runs)}{' '}
                runs, {String(t.failures)} failures, {String(t.flaky_failures)} flaky
                {t.flaky
                  ? ` (flaky until ${when(t.flaky_until as number)} or ${5 - (t.passes_since_flaky as number)} more consecutive passes)`
                  : ''}
              </p>
              <Quarantine test={t} reload={test.reload} />
            </>
          )
        }
      </Loading>
      <h2>Last 10 failures</h2>
      <Loading state={failures}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">No failures recorded.</p>
          ) : (
            <Runs runs={page.items} testid="test-failures" />
          )
        }
      </Loading>
      <h2>History</h2>
      <Loading state={history}>
        {(page) => (
          <>
            <Runs runs={page.items} testid="test-history" />
            <nav class="pager">
              {after ? <Link to={`/tests/${testid}`}>newest</Link> : null}
              {page.next ? (
                <Link to={`/tests/${testid}?after=${encodeURIComponent(page.next)}`}>older →</Link>
              ) : null}
            </nav>
          </>
        )}
      </Loading>
    </main>
  );
}

function Runs({ runs, testid }: { runs: Resource[]; testid: string }) {
  return (
    <table class="list" data-testid={testid}>
      <thead>
        <tr>
          <th>build</th>
          <th>outcome</th>
          <th>revision</th>
          <th>when</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={String(r.testrunid)}>
            <td>
              <Link to={`/builders/${r.builderid}/builds/${r.build_number}`}>#{String(r.build_number)}</Link>
            </td>
            <td>
              <Outcome outcome={r.outcome} />
            </td>
            <td>
              <code>{String(r.revision ?? '').slice(0, 12)}</code>
            </td>
            <td>{when(r.recorded_at as number)}</td>
            <td>
              {r.contradicted ? (
                <span class="badge badge-flaky" title="a pass of the same revision contradicts this failure">
                  flake
                </span>
              ) : null}
              {r.muted ? <span class="badge badge-muted">muted</span> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Who muted the test, when and why; Mute (with a reason) or Unmute for whoever may. */
function Quarantine({ test, reload }: { test: Resource; reload: () => void }) {
  const me = useMe();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const allowed = can(me, 'quarantine');
  const run = async (method: 'mute' | 'unmute', params: Record<string, unknown> = {}) => {
    setBusy(true);
    setError(null);
    try {
      await act(`/tests/${test.testid}`, method, params);
      reload();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="quarantine" data-testid="quarantine">
      {test.muted ? (
        <p>
          Muted by <strong>{String(test.muted_by)}</strong> {when(test.muted_at as number)}:{' '}
          <q data-testid="mute-reason">{String(test.muted_reason)}</q>. Its failures do not fail a build.
        </p>
      ) : (
        <p class="muted">Not muted: its failures fail the build.</p>
      )}
      {!allowed ? null : test.muted ? (
        <button type="button" disabled={busy} onClick={() => void run('unmute')}>
          Unmute
        </button>
      ) : (
        <form
          class="action-form"
          onSubmit={(e) => {
            e.preventDefault();
            void run('mute', { reason: String(new FormData(e.currentTarget).get('reason') ?? '') });
          }}
        >
          <input name="reason" placeholder="why mute it" aria-label="mute reason" required maxLength={1000} />
          <button type="submit" disabled={busy}>
            Mute
          </button>
        </form>
      )}
      {error ? (
        <span class="error" role="alert">
          {error}
        </span>
      ) : null}
    </section>
  );
}
