// A builder's recent health at a glance: the share of its latest finished builds that
// passed, and their durations as a sparkline with each point in its result's colour. The
// page reads every shown builder's latest builds at once (latest-builds.ts).
import type { Resource } from '../api';
import { duration, resultName } from '../format';

/** How many of a builder's latest builds a trend looks at. */
export const TREND_BUILDS = 20;
export const TREND_FIELDS = ['number', 'results', 'started_at', 'complete_at', 'complete'] as const;
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

/** The sparkline of a builder's latest builds (newest first, as `useLatestBuilds` gives them). */
export function BuilderTrend({ builds }: { builds: readonly Resource[] | undefined }) {
  const trend = builds && trendOf(builds);
  if (!trend || trend.successRate === undefined) return null;
  const max = Math.max(...trend.builds.map((b) => b.seconds), 1);
  const step = trend.builds.length > 1 ? WIDTH / (trend.builds.length - 1) : 0;
  const points = trend.builds.map((b, i) => ({
    ...b,
    x: trend.builds.length > 1 ? i * step : WIDTH / 2,
    y: HEIGHT - 2 - (b.seconds / max) * (HEIGHT - 4),
  }));
  const rate = Math.round(trend.successRate * 100);
  // The dots of each result are one path of zero-length round-capped strokes, not a circle
  // per build: a page of 1,000 builders draws 6,000 nodes instead of 60,000.
  const dots = new Map<string, string>();
  for (const p of points) {
    const colour = COLOUR[p.result] ?? 'skipped';
    dots.set(colour, `${dots.get(colour) ?? ''}M${p.x},${p.y}h0`);
  }
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
        <title>{points.map((p) => `#${p.number}: ${p.result}, ${duration(p.seconds)}`).join('\n')}</title>
        <polyline
          points={points.map((p) => `${p.x},${p.y}`).join(' ')}
          fill="none"
          stroke="var(--muted)"
          stroke-width="1"
        />
        {[...dots].map(([colour, d]) => (
          <path key={colour} d={d} stroke={`var(--${colour})`} stroke-width="4" stroke-linecap="round" />
        ))}
      </svg>
    </span>
  );
}
