// Words, colours and times for what the API returns as numbers.

/** Buildbot's result codes, 0..6. */
export const RESULT_NAMES = [
  'success',
  'warnings',
  'failure',
  'skipped',
  'exception',
  'retry',
  'cancelled',
] as const;

export function resultName(results: unknown, complete = true): string {
  if (!complete || results === null || results === undefined) return 'running';
  return RESULT_NAMES[results as number] ?? `result ${String(results)}`;
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function ago(epochSeconds: number | null | undefined, now = Date.now()): string {
  if (!epochSeconds) return '';
  const d = now / 1000 - epochSeconds;
  if (d < 60) return 'just now';
  return `${duration(d).split(' ')[0]} ago`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Local date and time as `2026-12-05 04:39:45`. Not toLocaleString or Intl: a page's first
 * locale format loads the browser's locale data, tens of milliseconds (over 100 on a busy
 * machine) before the page can draw.
 */
export function when(epochSeconds: number | null | undefined): string {
  if (!epochSeconds) return '';
  const d = new Date(epochSeconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The median of the durations (seconds) of finished successful builds, or undefined. */
export function typicalDuration(builds: readonly Record<string, unknown>[]): number | undefined {
  const d = builds
    .filter((b) => b.complete && (b.results === 0 || b.results === 1))
    .map((b) => (b.complete_at as number) - (b.started_at as number))
    .sort((a, b) => a - b);
  return d.length === 0 ? undefined : d[Math.floor(d.length / 2)];
}
