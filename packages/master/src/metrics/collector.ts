// Gathers a build's metrics in memory while it runs and writes them in one transaction,
// so a build costs one write for its metrics however many steps report numbers.
import type { MetricsData } from '../data/metrics.js';
import { type OutputProfile, PROFILE_POINTS } from '../eta/output-profile.js';
import type { TestSummary } from '../logparsers/summary.js';
import type { WarningReport } from '../logparsers/warnings.js';
import {
  BUILD_DURATION,
  BUILD_WARNINGS,
  buildTests,
  stepDuration,
  stepLines,
  stepLinesAt,
  stepTests,
  stepWarnings,
  TEST_COUNT_KINDS,
} from './names.js';

export class BuildMetricsCollector {
  readonly #values = new Map<string, number>();

  /** Any number a step or the runner wants kept (e.g. `artifact.size_bytes`). */
  set(name: string, value: number): void {
    this.#values.set(name, value);
  }

  add(name: string, delta: number): void {
    this.#values.set(name, (this.#values.get(name) ?? 0) + delta);
  }

  stepFinished(stepName: string, durationS: number, outputLines?: number, profile?: OutputProfile): void {
    this.set(stepDuration(stepName), durationS);
    if (outputLines !== undefined) this.set(stepLines(stepName), outputLines);
    PROFILE_POINTS.forEach((point, i) => {
      const share = profile?.[i];
      if (share !== undefined) this.set(stepLinesAt(stepName, point), share);
    });
  }

  warnings(stepName: string, report: Pick<WarningReport, 'count'>): void {
    this.set(stepWarnings(stepName), report.count);
    this.add(BUILD_WARNINGS, report.count);
  }

  tests(stepName: string, summary: TestSummary): void {
    for (const kind of TEST_COUNT_KINDS) {
      this.set(stepTests(stepName, kind), summary[kind]);
      this.add(buildTests(kind), summary[kind]);
    }
  }

  buildFinished(durationS: number): void {
    this.set(BUILD_DURATION, durationS);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#values);
  }

  /** Writes everything gathered so far; safe to call again (values are replaced). */
  async flush(metrics: MetricsData, buildid: number): Promise<void> {
    await metrics.record(buildid, this.snapshot());
  }
}
