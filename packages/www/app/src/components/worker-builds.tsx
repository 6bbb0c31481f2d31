// What each worker is building now: the running builds (one read of them all, as the home
// page makes), by worker, kept live by builds starting and finishing.
import { list, type Resource } from '../api';
import { useLiveRead } from '../hooks';
import { Link } from '../router';

interface RunningBuild {
  readonly build: Resource;
  readonly builder: string;
}
export type RunningByWorker = ReadonlyMap<number, readonly RunningBuild[]>;

async function load(): Promise<RunningByWorker> {
  const [builds, builders] = await Promise.all([
    list('/builds', { complete_at__eq: 'null', limit: 1000 }),
    list('/builders', { field: ['builderid', 'name'] }),
  ]);
  const names = new Map(builders.items.map((b) => [b.builderid as number, String(b.name)]));
  const byWorker = new Map<number, RunningBuild[]>();
  for (const build of builds.items) {
    const mine = byWorker.get(build.workerid as number) ?? [];
    mine.push({ build, builder: names.get(build.builderid as number) ?? String(build.builderid) });
    byWorker.set(build.workerid as number, mine);
  }
  return byWorker;
}

export function useRunningByWorker(): RunningByWorker {
  return useLiveRead(load, [], ['builds.*.new', 'builds.*.finished']).value ?? new Map();
}

export function WorkerBuilds({ running }: { running: readonly RunningBuild[] | undefined }) {
  if (!running?.length) return <span class="muted">idle</span>;
  return (
    <>
      {running.map(({ build, builder }, i) => (
        <span key={String(build.buildid)}>
          {i > 0 ? ', ' : ''}
          <Link to={`/builds/${build.buildid}`}>
            {builder} #{String(build.number)}
          </Link>
        </span>
      ))}
    </>
  );
}
