// Builders, grouped by their first tag (or project), each with its latest build however old
// it is: read from /lastbuilds, one index seek per builder, never a global window of
// recent builds in which idle builders would vanish.
import { list, type Resource } from '../api';
import { Loading, Result } from '../components/common';
import { ago } from '../format';
import { useLiveRead, useNow } from '../hooks';
import { Link } from '../router';

function groupOf(b: Resource): string {
  const tags = (b.tags as string[] | undefined) ?? [];
  return tags[0] ?? (b.project as string | null) ?? 'untagged';
}

async function load() {
  const [builders, last] = await Promise.all([list('/builders'), list('/lastbuilds')]);
  const lastOf = new Map(last.items.map((b) => [b.builderid as number, b]));
  const groups = new Map<string, Resource[]>();
  for (const b of builders.items.sort((x, y) => String(x.name).localeCompare(String(y.name)))) {
    const g = groupOf(b);
    groups.set(g, [...(groups.get(g) ?? []), b]);
  }
  return { groups: [...groups].sort(([a], [b]) => a.localeCompare(b)), lastOf };
}

export function Builders() {
  const now = useNow(10_000);
  const state = useLiveRead(load, [], ['builds.*.new', 'builds.*.finished', 'builders']);
  return (
    <main>
      <h1>Builders</h1>
      <Loading state={state}>
        {({ groups, lastOf }) =>
          groups.length === 0 ? (
            <p class="muted">No builders are configured.</p>
          ) : (
            groups.map(([group, builders]) => (
              <details open key={group} class="group">
                <summary>
                  {group} <span class="muted">({builders.length})</span>{' '}
                  {((builders[0]?.tags as string[] | undefined) ?? [])[0] === group ? (
                    <Link to={`/waterfall?tag=${encodeURIComponent(group)}`} class="small">
                      waterfall
                    </Link>
                  ) : null}
                </summary>
                <table class="list">
                  <tbody>
                    {builders.map((b) => {
                      const last = lastOf.get(b.builderid as number);
                      return (
                        <tr key={String(b.builderid)} data-builder={String(b.name)}>
                          <td>
                            <Link to={`/builders/${b.builderid}`}>{String(b.name)}</Link>
                          </td>
                          <td>
                            {last ? (
                              <Link to={`/builders/${b.builderid}/builds/${last.number}`}>
                                <Result results={last.results} complete={last.complete} /> #
                                {String(last.number)}
                              </Link>
                            ) : (
                              <span class="muted">never built</span>
                            )}
                          </td>
                          <td class="muted">
                            {last ? ago((last.complete_at ?? last.started_at) as number, now) : ''}
                          </td>
                          <td class="muted">{String(b.description ?? '')}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </details>
            ))
          )
        }
      </Loading>
    </main>
  );
}
