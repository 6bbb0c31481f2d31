// Metrics over time for one builder (duration, warnings, test counts, any number a step
// recorded), one uPlot chart each with the value under the cursor in its legend, and the
// same points as a table for keyboards and screen readers. Each metric is one index-backed
// read (/builders/:id/metrics/:name); a finished build of the builder re-reads them.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { list, type Resource } from '../api';
import { when } from '../format';
import { useLiveRead } from '../hooks';
import { Loading } from './common';

export interface MetricChartsProps {
  readonly builderid: number;
  /** The metrics to chart; absent, every metric the builder's latest finished build recorded. */
  readonly names?: readonly string[];
}

/** Points per chart: the builder's latest builds. */
const POINTS = 200;
const THROTTLE_MS = 2000;

interface Series {
  readonly name: string;
  /** Oldest first. */
  readonly points: readonly { buildid: number; at: number; value: number }[];
}

/** Names worth a chart: the share-of-lines samples the ETA uses are not. */
const chartable = (name: string) => !/:lines_at_\d+$/.test(name);

async function metricNames(builderid: number): Promise<string[]> {
  const last = (await list(`/builders/${builderid}/builds`, { complete_at__ne: 'null', limit: 1 })).items[0];
  if (!last) return [];
  const metrics = await list(`/builds/${last.buildid}/metrics`);
  return [...new Set(metrics.items.map((m) => String(m.name)))].filter(chartable).sort();
}

async function load(builderid: number, names: readonly string[] | undefined): Promise<Series[]> {
  const wanted = names ?? (await metricNames(builderid));
  const pages = await Promise.all(
    wanted.map((n) =>
      list<Resource>(`/builders/${builderid}/metrics/${encodeURIComponent(n)}`, { limit: POINTS }),
    ),
  );
  return wanted
    .map((name, i) => ({
      name,
      points: pages[i]!.items.map((m) => ({
        buildid: m.buildid as number,
        at: m.recorded_at as number,
        value: m.value as number,
      })).reverse(),
    }))
    .filter((s) => s.points.length > 0);
}

export function MetricCharts({ builderid, names }: MetricChartsProps) {
  const state = useLiveRead(
    () => load(builderid, names),
    [builderid, names?.join('\n')],
    [`builders.${builderid}.builds.*.finished`],
    THROTTLE_MS,
  );
  return (
    <Loading state={state}>
      {(series) =>
        series.length === 0 ? (
          <p class="muted">No metrics recorded yet.</p>
        ) : (
          <div data-testid="charts">
            {series.map((s) => (
              <Chart key={s.name} series={s} />
            ))}
          </div>
        )
      }
    </Loading>
  );
}

function Chart({ series }: { series: Series }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const accent =
      getComputedStyle(document.documentElement).getPropertyValue('--accent').trim() || '#2f5fb3';
    const muted = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#6b6f76';
    const axis = { stroke: muted, grid: { stroke: `${muted}33` }, ticks: { stroke: `${muted}33` } };
    const plot = new uPlot(
      {
        width: Math.max(Math.min(el.clientWidth || 600, 900), 280),
        height: 180,
        scales: { x: { time: true } },
        axes: [axis, axis],
        series: [{}, { label: series.name, stroke: accent, width: 2, points: { show: true, size: 5 } }],
      },
      [series.points.map((p) => p.at), series.points.map((p) => p.value)],
      el,
    );
    return () => plot.destroy();
  }, [series]);
  return (
    <figure class="chart" data-metric={series.name}>
      <figcaption>{series.name}</figcaption>
      <div ref={box} />
      <details>
        <summary>values</summary>
        <table class="list" data-testid="metric-values">
          <thead>
            <tr>
              <th>build id</th>
              <th>recorded</th>
              <th>value</th>
            </tr>
          </thead>
          <tbody>
            {series.points.map((p) => (
              <tr key={String(p.buildid)} data-buildid={String(p.buildid)} data-value={String(p.value)}>
                <td>{p.buildid}</td>
                <td>{when(p.at)}</td>
                <td>{p.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
