// Builders, grouped by their first tag (or project), each with its latest build however old
// it is: read from /lastbuilds, one index seek per builder, never a global window of
// recent builds in which idle builders would vanish. Each open group's builders show their
// success rate and duration trend (read once the row comes near the screen), and the next
// run of their nightly or periodic schedulers.

import { Component } from 'preact';
import { useState } from 'preact/hooks';
import { list, type Resource } from '../api';
import { Loading, Result } from '../components/common';
import { BuilderTrend, TREND_BUILDS, TREND_FIELDS } from '../components/trend';
import { ago, when } from '../format';
import { useAsync, useLive, useLiveRead, useNearScreen, useNow, useProgressive } from '../hooks';
import { useLatestBuilds } from '../latest-builds';
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
    const group = groups.get(g);
    if (group) group.push(b);
    else groups.set(g, [b]);
  }
  return { groups: [...groups].sort(([a], [b]) => a.localeCompare(b)), lastOf };
}

/** The earliest next run of each builder's timed (nightly, periodic) schedulers, epoch seconds. */
async function nextTimedRuns(): Promise<Map<string, { at: number; scheduler: string }>> {
  const next = new Map<string, { at: number; scheduler: string }>();
  for (const s of (await list('/schedulers')).items) {
    const at = s.next_run_at as number | null;
    if (at === null || (s.kind !== 'Nightly' && s.kind !== 'Periodic')) continue;
    for (const name of s.builder_names as string[])
      if (!next.has(name) || next.get(name)!.at > at) next.set(name, { at, scheduler: String(s.name) });
  }
  return next;
}

export function Builders() {
  const now = useNow(10_000);
  // Read again only when the configured builders change; builds move the last builds on
  // from their events (each carries the full build), not by reading every builder again.
  const state = useLiveRead(load, [], ['builders']);
  const [newer, setNewer] = useState<ReadonlyMap<number, Resource>>(new Map());
  useLive(['builds.*.new', 'builds.*.finished'], (m) => {
    if (m.type === 'resync') return state.reload();
    const b = m.resource;
    setNewer((seen) => {
      const known = seen.get(b.builderid as number);
      if (known && (known.number as number) > (b.number as number)) return seen;
      return new Map(seen).set(b.builderid as number, b);
    });
  });
  const lastOf = (builderid: number): Resource | undefined => {
    const read = state.value?.lastOf.get(builderid);
    const heard = newer.get(builderid);
    return heard && (!read || (heard.number as number) >= (read.number as number)) ? heard : read;
  };
  // A timed run moves the next one on: read again once a minute (the clock ticks every 10 s).
  const [closed, setClosed] = useState<ReadonlySet<string>>(new Set());
  const nextRuns = useAsync(() => nextTimedRuns().catch(() => new Map()), [Math.floor(now / 60_000)]);
  // Rows are built a few hundred a frame, and only those built read their trend; a folded
  // group builds and reads nothing: hundreds of builders cost only what is open.
  const groups = (state.value?.groups ?? []).map(([group, builders]) => ({
    group,
    builders,
    open: !closed.has(group),
  }));
  const rows = useProgressive(groups.reduce((n, g) => n + (g.open ? g.builders.length : 0), 0));
  let budget = rows;
  const shown = new Map<string, Resource[]>();
  for (const g of groups) {
    if (!g.open) continue;
    shown.set(g.group, g.builders.slice(0, budget));
    budget = Math.max(budget - g.builders.length, 0);
  }
  // Only rows that came near the screen read and draw their trend: of 1,000 builders, the
  // few dozen anyone sees, and more as the page scrolls.
  const { near, observer } = useNearScreen();
  const trends = useLatestBuilds(
    [...shown.values()]
      .flat()
      .map((b) => b.builderid as number)
      .filter((id) => near.has(id)),
    TREND_BUILDS,
    TREND_FIELDS,
  );
  return (
    <main>
      <h1>Builders</h1>
      <Loading state={state}>
        {({ groups }) =>
          groups.length === 0 ? (
            <p class="muted">No builders are configured.</p>
          ) : (
            groups.map(([group, builders]) => (
              <details
                open={!closed.has(group)}
                key={group}
                class="group"
                onToggle={(e) => {
                  const open = e.currentTarget.open;
                  setClosed((c) => {
                    const next = new Set(c);
                    if (open) next.delete(group);
                    else next.add(group);
                    return next;
                  });
                }}
              >
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
                    {(shown.get(group) ?? []).map((b) => (
                      <BuilderRow
                        key={String(b.builderid)}
                        builder={b}
                        last={lastOf(b.builderid as number)}
                        trend={trends.get(b.builderid as number)}
                        next={nextRuns.value?.get(String(b.name))}
                        now={now}
                        observer={observer}
                      />
                    ))}
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

interface BuilderRowProps {
  readonly builder: Resource;
  readonly last: Resource | undefined;
  readonly trend: readonly Resource[] | undefined;
  readonly next: { at: number; scheduler: string } | undefined;
  readonly now: number;
  /** Told of the row, to read its trend once it comes near the screen. */
  readonly observer: IntersectionObserver;
}

/**
 * One builder's row, rendered again only when one of its props changed: each step of the
 * progressive render, each batch of trends and each live build re-renders only the rows
 * whose data changed, not all 1,000.
 */
class BuilderRow extends Component<BuilderRowProps> {
  override shouldComponentUpdate(next: BuilderRowProps): boolean {
    const shown = this.props;
    return (Object.keys(next) as (keyof BuilderRowProps)[]).some((k) => next[k] !== shown[k]);
  }

  override componentDidMount(): void {
    this.props.observer.observe(this.base as Element);
  }

  override componentWillUnmount(): void {
    this.props.observer.unobserve(this.base as Element);
  }

  override render({ builder: b, last, trend, next, now }: BuilderRowProps) {
    return (
      <tr data-builder={String(b.name)} data-near={String(b.builderid)}>
        <td>
          <Link to={`/builders/${b.builderid}`}>{String(b.name)}</Link>
        </td>
        <td>
          {last ? (
            <Link to={`/builders/${b.builderid}/builds/${last.number}`}>
              <Result results={last.results} complete={last.complete} /> #{String(last.number)}
            </Link>
          ) : (
            <span class="muted">never built</span>
          )}
        </td>
        <td class="muted">{last ? ago((last.complete_at ?? last.started_at) as number, now) : ''}</td>
        <td>
          <BuilderTrend builds={trend} />
        </td>
        <td class="muted" data-testid="next-run">
          {nextRun(next)}
        </td>
        <td class="muted">{String(b.description ?? '')}</td>
      </tr>
    );
  }
}

function nextRun(next: { at: number; scheduler: string } | undefined) {
  return next ? (
    <span title={when(next.at)}>
      next {next.scheduler}: {when(next.at)}
    </span>
  ) : null;
}
