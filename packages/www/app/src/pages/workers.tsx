// Workers: connected or not, paused, what they said about themselves, and their builds;
// pause, unpause and graceful shutdown for whoever may manage workers.
import { list } from '../api';
import { WorkerActions } from '../components/actions';
import { Loading } from '../components/common';
import { useRunningByWorker, WorkerBuilds } from '../components/worker-builds';
import { useLiveRead } from '../hooks';

export function Workers() {
  const state = useLiveRead(() => list('/workers', { order: 'name' }), [], ['workers']);
  const running = useRunningByWorker();
  return (
    <main>
      <h1>Workers</h1>
      <Loading state={state}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">No workers are configured.</p>
          ) : (
            <table class="list" data-testid="workers">
              <thead>
                <tr>
                  <th>name</th>
                  <th>state</th>
                  <th>building</th>
                  <th>admin</th>
                  <th>host</th>
                  <th>version</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {page.items.map((w) => {
                  const info = (w.workerinfo ?? {}) as Record<string, unknown>;
                  const connected = (w.connected_to as unknown[]).length > 0;
                  return (
                    <tr key={String(w.workerid)} data-worker={String(w.name)}>
                      <td>{String(w.name)}</td>
                      <td class={connected ? 'ok' : 'muted'}>
                        {connected ? 'connected' : 'disconnected'}
                        {w.paused ? ', paused' : ''}
                        {w.graceful ? ', shutting down' : ''}
                      </td>
                      <td data-testid="worker-builds">
                        <WorkerBuilds running={running.get(w.workerid as number)} />
                      </td>
                      <td>{String(info.admin ?? '')}</td>
                      <td>{String(info.host ?? '')}</td>
                      <td>{String(info.version ?? '')}</td>
                      <td>
                        <WorkerActions worker={w} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </Loading>
    </main>
  );
}
