// A build's metrics: what its steps report (tests, warnings, any number) and, from its
// progress, each step's duration, output lines and output profile; written in one go when
// the build ends, with the build's duration.
import type { DataLayer } from '../data/index.js';
import { OutputTimeline } from '../eta/output-profile.js';
import { BuildMetricsCollector } from '../metrics/collector.js';
import type { BuildProgressListener, ProgressStep, StepWork } from './build-progress.js';

export class MetricsRecorder implements BuildProgressListener {
  /** Where steps report their numbers. */
  readonly collector = new BuildMetricsCollector();
  /** The running step's output over time, for its output profile (eta/output-profile.ts). */
  #timeline: OutputTimeline | null = null;

  stepStarted(_step: ProgressStep, at: number): void {
    this.#timeline = new OutputTimeline(at);
  }

  stepOutput(_stepName: string, lines: number, at: number): void {
    this.#timeline?.add(at, lines);
  }

  stepEnded(step: ProgressStep, work: StepWork | null): void {
    if (work) {
      const profile = this.#timeline?.profile(work.endedAt, work.outputLines);
      this.collector.stepFinished(
        step.name,
        Math.max(0, work.endedAt - work.startedAt),
        work.outputLines,
        profile,
      );
    }
    this.#timeline = null;
  }

  stepSkipped(): void {}

  /** Records the build's duration (from its recorded start to `endedAt`) and writes everything. */
  async record(data: DataLayer, buildid: number, endedAt: number): Promise<void> {
    const build = await data.builds.get(buildid);
    if (build) this.collector.buildFinished(Math.max(0, endedAt - build.startedAt));
    await this.collector.flush(data.metrics, buildid);
  }
}
