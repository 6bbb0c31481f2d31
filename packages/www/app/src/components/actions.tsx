// Buttons for the data API's actions, shown only to whoever may use them (the API checks
// again: hiding a button is a courtesy, never the protection).
import { useState } from 'preact/hooks';
import { act, can, useMe } from '../auth';
import { navigate } from '../router';

function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

/** Stop for a running build, Rebuild for a finished one. */
export function BuildActions({ build }: { build: Record<string, unknown> }) {
  const me = useMe();
  const { busy, error, run } = useAction();
  const path = `/builds/${build.buildid}`;
  const running = !build.complete;
  if (running ? !can(me, 'stop') : !can(me, 'rebuild')) return null;
  return (
    <span class="action-form">
      {running ? (
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void run(() => act(path, 'stop', { reason: `stopped by ${me.user}` }).then(() => {}))
          }
        >
          Stop
        </button>
      ) : (
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              const r = (await act(path, 'rebuild')) as { buildrequestid?: number };
              if (r?.buildrequestid) navigate(`/buildrequests/${r.buildrequestid}`);
            })
          }
        >
          Rebuild
        </button>
      )}
      {error ? (
        <span class="error" role="alert">
          {error}
        </span>
      ) : null}
    </span>
  );
}

/** Pause or unpause, and graceful shutdown, for whoever may manage workers. */
export function WorkerActions({ worker }: { worker: Record<string, unknown> }) {
  const me = useMe();
  const { busy, error, run } = useAction();
  if (!can(me, 'workers')) return null;
  const path = `/workers/${worker.workerid}`;
  const connected = ((worker.connected_to as unknown[] | undefined) ?? []).length > 0;
  const button = (label: string, method: string) => (
    <button type="button" disabled={busy} onClick={() => void run(() => act(path, method).then(() => {}))}>
      {label}
    </button>
  );
  return (
    <span class="action-form">
      {worker.paused ? button('Unpause', 'unpause') : button('Pause', 'pause')}
      {connected && !worker.graceful ? button('Shut down', 'shutdown') : null}
      {error ? (
        <span class="error" role="alert">
          {error}
        </span>
      ) : null}
    </span>
  );
}
