// The waterfall: one column per builder, newest at the top, each build a box as tall as it
// ran. Time is compressed between builds (an idle night takes a few pixels, not a screen),
// so the boxes stay readable on any history. The shown builders' recent builds come in one
// read, and an event re-reads only the column it is about, at most once a second: an open
// waterfall costs next to nothing while builds stream logs.
import { list, type Resource } from '../api';
import { Loading } from '../components/common';
import { resultName } from '../format';
import { useAsync, useNow } from '../hooks';
import { useLatestBuilds } from '../latest-builds';
import { href, Link } from '../router';

const PER_BUILDER = 25;
const MAX_BUILDERS = 60;
const MIN_GAP_PX = 6;
const MAX_GAP_PX = 160;
const PX_PER_SECOND = 0.5;

/** Maps times (epoch seconds, newest first) to y positions with long gaps squeezed. */
export function timeScale(times: number[]): (t: number) => number {
  const sorted = [...new Set(times)].sort((a, b) => b - a);
  const ys = new Map<number, number>();
  let y = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0) y += Math.min(Math.max((sorted[i - 1]! - sorted[i]!) * PX_PER_SECOND, MIN_GAP_PX), MAX_GAP_PX);
    ys.set(sorted[i]!, y);
  }
  return (t) => ys.get(t) ?? 0;
}

export function Waterfall({ tag }: { tag: string | null }) {
  const builders = useAsync(async () => {
    const all = (await list('/builders', { order: 'name' })).items;
    const shown = tag ? all.filter((b) => ((b.tags as string[]) ?? []).includes(tag)) : all;
    return { shown: shown.slice(0, MAX_BUILDERS), hidden: Math.max(shown.length - MAX_BUILDERS, 0) };
  }, [tag]);
  return (
    <main class="wide">
      <h1>Waterfall{tag ? ` #${tag}` : ''}</h1>
      <Loading state={builders}>
        {({ shown, hidden }) => (
          <>
            {hidden > 0 ? (
              <p class="muted">{hidden} more builders are not shown; pick a tag on the builders page.</p>
            ) : null}
            <Columns builders={shown} />
          </>
        )}
      </Loading>
    </main>
  );
}

function Columns({ builders }: { builders: Resource[] }) {
  const now = useNow(5000) / 1000;
  const ids = builders.map((b) => b.builderid as number);
  const builds = useLatestBuilds(ids, PER_BUILDER);
  const all = [...builds.values()].flat();
  const times = [
    now,
    ...all.flatMap((b) => [b.started_at as number, (b.complete_at as number | null) ?? now]),
  ];
  const y = timeScale(times);
  const height = Math.max(...times.map(y), 100) + 20;
  return (
    <div class="waterfall" data-testid="waterfall">
      {builders.map((builder) => (
        <div class="wf-column" key={String(builder.builderid)} data-builder={String(builder.name)}>
          <div class="wf-head">
            <Link to={`/builders/${builder.builderid}`}>{String(builder.name)}</Link>
          </div>
          <div class="wf-body" style={{ height: `${height}px` }}>
            {(builds.get(builder.builderid as number) ?? []).map((b) => {
              const top = y((b.complete_at as number | null) ?? now);
              const bottom = y(b.started_at as number);
              return (
                <a
                  key={String(b.buildid)}
                  href={href(`/builders/${builder.builderid}/builds/${b.number}`)}
                  class={`wf-build result-${resultName(b.results, Boolean(b.complete))}`}
                  style={{ top: `${top}px`, height: `${Math.max(bottom - top, 16)}px` }}
                  title={String(b.state_string)}
                >
                  #{String(b.number)}
                </a>
              );
            })}
          </div>
        </div>
      ))}
    </div>
  );
}
