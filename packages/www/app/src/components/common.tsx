// Small pieces every page uses.
import type { ComponentChildren } from 'preact';
import { duration, resultName } from '../format';

export function Result({ results, complete = true }: { results: unknown; complete?: boolean | unknown }) {
  const name = resultName(results, complete !== false);
  return <span class={`result result-${name}`}>{name}</span>;
}

export function Loading<T>({
  state,
  children,
}: {
  state: { value: T | undefined; error: Error | undefined };
  children: (value: T) => ComponentChildren;
}) {
  if (state.error)
    return (
      <p class="error" role="alert">
        {state.error.message}
      </p>
    );
  if (state.value === undefined) return <p class="muted">Loading…</p>;
  return <>{children(state.value)}</>;
}

/** Elapsed time of a running build against the typical one: a bar, and the time left. */
export function Progress({
  startedAt,
  typical,
  now,
}: {
  startedAt: number;
  typical?: number | undefined;
  now: number;
}) {
  const elapsed = now / 1000 - startedAt;
  if (typical === undefined || typical <= 0) return <span class="muted">{duration(elapsed)} so far</span>;
  const fraction = Math.min(elapsed / typical, 1);
  const left = typical - elapsed;
  return (
    <span class="progress" title={`typical ${duration(typical)}`}>
      <progress max={1} value={fraction} aria-label="progress" />
      <span class="muted">{left > 0 ? `ETA ${duration(left)}` : `overdue by ${duration(-left)}`}</span>
    </span>
  );
}
