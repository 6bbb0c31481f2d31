// Changes, newest first, a page at a time.
import { list } from '../api';
import { Loading } from '../components/common';
import { when } from '../format';
import { useLiveRead } from '../hooks';
import { Link } from '../router';

export function Changes({ after }: { after: string | null }) {
  const state = useLiveRead(
    () => list('/changes', { limit: 50, ...(after ? { after } : {}) }),
    [after],
    after ? [] : ['changes'],
  );
  return (
    <main>
      <h1>Changes</h1>
      <Loading state={state}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">No changes yet.</p>
          ) : (
            <>
              <table class="list" data-testid="changes">
                <thead>
                  <tr>
                    <th>revision</th>
                    <th>author</th>
                    <th>branch</th>
                    <th>comments</th>
                    <th>when</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((c) => (
                    <tr key={String(c.changeid)}>
                      <td>
                        <code>{String(c.revision ?? '').slice(0, 12)}</code>
                      </td>
                      <td>{String(c.author ?? '')}</td>
                      <td>{String(c.branch ?? '')}</td>
                      <td>{String(c.comments ?? '').split('\n')[0]}</td>
                      <td class="muted">{when(c.when_timestamp as number)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <nav class="pager">
                {after ? <Link to="/changes">newest</Link> : null}
                {page.next ? (
                  <Link to={`/changes?after=${encodeURIComponent(page.next)}`}>older →</Link>
                ) : null}
              </nav>
            </>
          )
        }
      </Loading>
    </main>
  );
}
