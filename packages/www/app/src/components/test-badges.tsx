// What a test's row says at a glance: its last outcome, whether it is flaky, whether muted.
import type { Resource } from '../api';
import { when } from '../format';

const OUTCOME_CLASS: Record<string, string> = {
  pass: 'success',
  fail: 'failure',
  skip: 'skipped',
  todo: 'skipped',
};

export function Outcome({ outcome }: { outcome: unknown }) {
  const o = String(outcome);
  return <span class={`result result-${OUTCOME_CLASS[o] ?? 'skipped'}`}>{o}</span>;
}

export function TestBadges({ test }: { test: Resource }) {
  return (
    <>
      {test.flaky ? (
        <span
          class="badge badge-flaky"
          data-testid="flaky-badge"
          title={`${test.flaky_failures} failure(s) contradicted by a pass of the same revision`}
        >
          flaky
        </span>
      ) : null}
      {test.muted ? (
        <span
          class="badge badge-muted"
          data-testid="muted-badge"
          title={`muted by ${test.muted_by} ${when(test.muted_at as number)}: ${test.muted_reason}`}
        >
          muted
        </span>
      ) : null}
    </>
  );
}
