// Home: what is running now (with progress against each builder's typical duration), the
// latest failures, and the workers.
import { list, type Resource } from '../api';
import { Loading, Progress, Result } from '../components/common';
import { ago, typicalDuration } from '../format';
import { useLiveRead, useNow } from '../hooks';
import { Link } from '../router';

async function running(): Promise<{
  builds: Resource[];
  builders: Map<number, Resource>;
  typical: Map<number, number | undefined>;
}> {
  const [builds, builders] = await Promise.all([
    list('/builds', { complete_at__eq: 'null', limit: 100 }),
    list('/builders', { field: ['builderid', 'name'] }),
  ]);
  const ids = [...new Set(builds.items.map((b) => b.builderid as number))];
  const histories = await Promise.all(
    ids.map((id) => list(`/builders/${id}/builds`, { limit: 20, complete_at__ne: 'null' })),
  );
  return {
    builds: builds.items,
    builders: new Map(builders.items.map((b) => [b.builderid as number, b])),
    typical: new Map(ids.map((id, i) => [id, typicalDuration(histories[i]!.items)])),
  };
}

export function Home() {
  const now = useNow();
  const active = useLiveRead(running, [], ['builds.*.new', 'builds.*.finished']);
  const failures = useLiveRead(
    async () => {
      const [builds, builders] = await Promise.all([
        list('/builds', { results__in: ['2', '4'], limit: 10 }),
        list('/builders', { field: ['builderid', 'name'] }),
      ]);
      return {
        builds: builds.items,
        names: new Map(builders.items.map((b) => [b.builderid, b.name as string])),
      };
    },
    [],
    ['builds.*.finished'],
  );
  const workers = useLiveRead(() => list('/workers'), [], ['workers']);
  return (
    <main>
      <h1>Lathe</h1>
      <section aria-labelledby="running-h">
        <h2 id="running-h">Running builds</h2>
        <Loading state={active}>
          {({ builds, builders, typical }) =>
            builds.length === 0 ? (
              <p class="muted">Nothing is building.</p>
            ) : (
              <table class="list" data-testid="running-builds">
                <tbody>
                  {builds.map((b) => {
                    const builder = builders.get(b.builderid as number);
                    return (
                      <tr key={String(b.buildid)}>
                        <td>
                          <Link to={`/builders/${b.builderid}/builds/${b.number}`}>
                            {String(builder?.name ?? b.builderid)} #{String(b.number)}
                          </Link>
                        </td>
                        <td>{String(b.state_string)}</td>
                        <td>
                          <Progress
                            startedAt={b.started_at as number}
                            typical={typical.get(b.builderid as number)}
                            now={now}
                          />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )
          }
        </Loading>
      </section>
      <section aria-labelledby="failures-h">
        <h2 id="failures-h">Recent failures</h2>
        <Loading state={failures}>
          {({ builds, names }) =>
            builds.length === 0 ? (
              <p class="muted">No failed builds.</p>
            ) : (
              <table class="list">
                <tbody>
                  {builds.map((b) => (
                    <tr key={String(b.buildid)}>
                      <td>
                        <Link to={`/builders/${b.builderid}/builds/${b.number}`}>
                          {String(names.get(b.builderid) ?? b.builderid)} #{String(b.number)}
                        </Link>
                      </td>
                      <td>
                        <Result results={b.results} />
                      </td>
                      <td>{String(b.state_string)}</td>
                      <td class="muted">{ago(b.complete_at as number, now)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </Loading>
      </section>
      <section aria-labelledby="workers-h">
        <h2 id="workers-h">Workers</h2>
        <Loading state={workers}>
          {(page) => {
            const connected = page.items.filter((w) => (w.connected_to as unknown[]).length > 0);
            const paused = page.items.filter((w) => w.paused);
            return (
              <p>
                <Link to="/workers">
                  {connected.length} of {page.items.length} connected
                </Link>
                {paused.length > 0 ? `, ${paused.length} paused` : ''}
              </p>
            );
          }}
        </Loading>
      </section>
    </main>
  );
}
