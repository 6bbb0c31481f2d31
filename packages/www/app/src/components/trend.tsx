// A builder's recent health at a glance: the share of its latest finished builds that
// passed, and their durations as a sparkline with each point in its result's colour. One
// read of the builder's latest builds, re-read (throttled) when one of them finishes.
import { list, type Resource } from '../api';
import { duration, resultName } from '../format';
import { useLiveRead } from '../hooks';

const BUILDS = 20;
const WIDTH = 100;
const HEIGHT = 20;
/** The theme colour of each result (style.css). */
const COLOUR: Record<string, string> = {
  success: 'success',
  warnings: 'warnings',
  failure: 'failure',
  exception: 'exception',
  retry: 'exception',
};

export interface Trend {
  /** Finished builds looked at, oldest first. */
  readonly builds: readonly { number: number; seconds: number; result: string }[];
  /** Share that passed (success or warnings), 0..1; undefined with none finished. */
  readonly successRate: number | undefined;
}

export function trendOf(recent: readonly Resource[]): Trend {
  const builds = recent
    .filter((b) => b.complete)
    .map((b) => ({
      number: b.number as number,
      seconds: (b.complete_at as number) - (b.started_at as number),
      result: resultName(b.results),
    }))
    .reverse();
  const passed = builds.filter((b) => b.result === 'success' || b.result === 'warnings').length;
  return { builds, successRate: builds.length ? passed / builds.length : undefined };
}

export function BuilderTrend({ builderid }: { builderid: number }) {
  const state = useLiveRead(
    async () =>
      trendOf(
        (
          await list(`/builders/${builderid}/builds`, {
            limit: BUILDS,
            field: ['number', 'results', 'started_at', 'complete_at', 'complete'],
          })
        ).items,
      ),
    [builderid],
    [`builders.${builderid}.builds.*.finished`],
    2000,
  );
  const trend = state.value;
  if (!trend || trend.successRate === undefined) return null;
  const max = Math.max(...trend.builds.map((b) => b.seconds), 1);
  const step = trend.builds.length > 1 ? WIDTH / (trend.builds.length - 1) : 0;
  const points = trend.builds.map((b, i) => ({
    ...b,
    x: trend.builds.length > 1 ? i * step : WIDTH / 2,
    y: HEIGHT - 2 - (b.seconds / max) * (HEIGHT - 4),
  }));
  const rate = Math.round(trend.successRate * 100);
  return (
    <span class="trend" data-testid="trend" data-success-rate={String(rate)}>
      <span class="muted" title={`of the last ${trend.builds.length} finished builds`}>
        {rate}% pass
      </span>{' '}
      <svg
        class="spark"
        width={WIDTH + 4}
        height={HEIGHT}
        viewBox={`-2 0 ${WIDTH + 4} ${HEIGHT}`}
        role="img"
        aria-label={`durations of the last ${points.length} builds`}
      >
        <polyline
          points={points.map((p) => `${p.x},${p.y}`).join(' ')}
          fill="none"
          stroke="var(--muted)"
          stroke-width="1"
        />
        {points.map((p) => (
          <circle key={p.number} cx={p.x} cy={p.y} r="2" fill={`var(--${COLOUR[p.result] ?? 'skipped'})`}>
            <title>
              #{p.number}: {p.result}, {duration(p.seconds)}
            </title>
          </circle>
        ))}
      </svg>
    </span>
  );
}
