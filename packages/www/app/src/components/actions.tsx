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

/** Queues a build of the builder through its force scheduler, then shows the request. */
export function ForceForm({ builderid }: { builderid: number }) {
  const me = useMe();
  const { busy, error, run } = useAction();
  if (!can(me, 'force')) return null;
  return (
    <form
      class="action-form"
      onSubmit={(e) => {
        e.preventDefault();
        const reason = String(new FormData(e.currentTarget).get('reason') ?? '');
        void run(async () => {
          const r = (await act(`/builders/${builderid}`, 'force', { reason })) as { buildrequestid: number };
          navigate(`/buildrequests/${r.buildrequestid}`);
        });
      }}
    >
      <input name="reason" placeholder="reason" aria-label="reason" />
      <button type="submit" disabled={busy}>
        Force build
      </button>
      {error ? (
        <span class="error" role="alert">
          {error}
        </span>
      ) : null}
    </form>
  );
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
