// A running build's ETA: learned from the builder's recent successful builds when the steps
// begin, moved by the steps' progress, and published on the bus (`build.eta`) as steps start
// and end and, at most once a second, as output comes.
import type { EventBus } from '../bus/bus.js';
import type { DataLayer } from '../data/index.js';
import { type EtaEstimate, EtaEstimator } from '../eta/estimator.js';
import type { BuildHistory } from '../eta/history.js';
import { loadEtaHistory } from '../eta/load.js';
import type { BuildProgressListener, ProgressStep, StepWork } from './build-progress.js';

/** Output moves the ETA continuously; the bus hears about it at most this often. */
const ETA_OUTPUT_PUBLISH_MS = 1000;

export interface EtaBuild {
  readonly buildid: number;
  readonly builderid: number;
  readonly number: number;
}

export class EtaPublisher implements BuildProgressListener {
  #eta: EtaEstimator | null = null;
  #publishedAt = Number.NEGATIVE_INFINITY;
  #stepid: number | null = null;

  constructor(
    private readonly bus: EventBus,
    private readonly build: EtaBuild,
    private readonly now: () => number,
  ) {}

  #history: Promise<BuildHistory[]> | null = null;

  /**
   * Starts reading the builder's last `historySize` successful builds, so the read overlaps
   * the round trip that prepares the worker. Without history (none yet, or it failed to
   * load: `onError`) the build runs the same, only without an ETA.
   */
  loadHistory(data: DataLayer, historySize: number, onError: (err: unknown) => void): void {
    this.#history = loadEtaHistory(data, this.build.builderid, historySize).catch((err: unknown) => {
      onError(err);
      return [];
    });
  }

  /** Starts the clock as the steps begin, with the history `loadHistory` read. */
  async start(steps: readonly string[]): Promise<void> {
    const history = (await this.#history) ?? [];
    this.#eta = new EtaEstimator(history, { steps });
    this.#eta.buildStarted(this.now());
  }

  /** When the build should end; null before its steps begin. */
  estimate(): EtaEstimate | null {
    return this.#eta?.estimate(this.now()) ?? null;
  }

  stepStarted(step: ProgressStep, at: number): void {
    this.#stepid = step.stepid;
    this.#eta?.stepStarted(step.factoryName, at);
    this.#publish(false);
  }

  stepOutput(stepName: string, lines: number): void {
    this.#eta?.stepOutput(stepName, lines);
    this.#publish(true);
  }

  stepEnded(step: ProgressStep, work: StepWork | null): void {
    if (work) this.#eta?.stepFinished(step.factoryName, work.endedAt);
    else this.#eta?.stepSkipped(step.factoryName);
    this.#stepid = null;
    this.#publish(false);
  }

  stepSkipped(factoryName: string): void {
    this.#eta?.stepSkipped(factoryName);
  }

  /** Tells the bus (for the planned web UI and reporters) the current estimate; `throttled` for output. */
  #publish(throttled: boolean): void {
    if (!this.#eta?.hasHistory) return;
    const t = performance.now();
    if (throttled && t - this.#publishedAt < ETA_OUTPUT_PUBLISH_MS) return;
    this.#publishedAt = t;
    const e = this.#eta.estimate(this.now());
    if (e.buildEta === undefined) return;
    this.bus.publish('build.eta', {
      ...this.build,
      stepid: this.#stepid,
      stepEta: e.stepEta ?? null,
      buildEta: e.buildEta,
      progress: e.progress ?? null,
    });
  }
}
