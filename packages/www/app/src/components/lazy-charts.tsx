// Charts are loaded on first use: uPlot and the chart code stay out of the app's main
// bundle, so pages without charts never download them.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { MetricChartsProps } from './charts';

let loaded: Promise<ComponentType<MetricChartsProps>> | null = null;

export function LazyCharts(props: MetricChartsProps) {
  const [Charts, setCharts] = useState<ComponentType<MetricChartsProps> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    loaded ??= import('./charts').then((m) => m.MetricCharts);
    loaded.then(
      (c) => setCharts(() => c),
      (err: Error) => setError(`the charts could not be loaded: ${err.message}`),
    );
  }, []);
  if (error) return <p class="error">{error}</p>;
  return Charts ? <Charts {...props} /> : <p class="muted">Loading charts…</p>;
}
