// Keeps the schedulers and change sources tables (data/service-records.ts) in step with
// what this master is configured with and runs: after every placement (start, reconfig,
// heartbeat with `cluster`), when a scheduler's next run moves, and as change sources poll.
// What another master runs is its own to write; what this master stops running is released.
import type { ChangeSourceConfig } from '../changes/create.js';
import type { ChangeSourceActivity, DataLayer, SchedulerRecord, SchedulerRun } from '../data/index.js';
import type { AnySchedulerConfig, SchedulerService } from '../schedulers/create.js';
import { parameterSpec } from '../schedulers/force-form.js';
import { changeSourceNeedsLease, schedulerNeedsLease } from './placement.js';

export function schedulerRecord(config: AnySchedulerConfig): SchedulerRecord {
  return {
    name: config.name,
    kind: config.kind,
    builderNames: config.builderNames,
    force:
      config.kind === 'ForceScheduler'
        ? {
            reasonRequired: config.reasonRequired,
            // The implicit scheduler declares nothing and takes any property.
            anyProperties: config.implicit,
            parameters: config.parameters.map(parameterSpec),
          }
        : null,
  };
}

export interface ServiceRecorderOptions {
  readonly data: DataLayer;
  readonly masterid: number;
  /** With `cluster`: schedulers and change sources that need no lease run on every master. */
  readonly cluster: boolean;
  readonly configured: () => {
    readonly schedulers: readonly AnySchedulerConfig[];
    readonly changeSources: readonly ChangeSourceConfig[];
  };
  /** What this master runs now. */
  readonly running: () => {
    readonly schedulers: Iterable<SchedulerService>;
    readonly changeSources: readonly ChangeSourceConfig[];
  };
  readonly onError: (err: unknown, context: string) => void;
}

export class ServiceRecorder {
  #writing: Promise<void> = Promise.resolve();
  #pending: Promise<void> | null = null;
  #stopped = false;

  constructor(private readonly o: ServiceRecorderOptions) {}

  /** Writes what runs now, after the write under way; calls meanwhile share one write. */
  record(): Promise<void> {
    if (this.#stopped) return this.#writing;
    if (!this.#pending) {
      // Not started yet: it reads what runs when it starts, so it serves this call too.
      this.#pending = this.#writing.then(() => {
        this.#pending = null;
        return this.#write().catch((err) => this.o.onError(err, 'recording schedulers and change sources'));
      });
      this.#writing = this.#pending;
    }
    return this.#pending;
  }

  /** A change source polled, stored a change or failed. */
  activity(source: string, activity: ChangeSourceActivity): void {
    if (this.#stopped) return;
    this.#writing = this.#writing.then(() =>
      this.o.data.serviceRecords
        .changeSourceActivity(source, activity)
        .catch((err) => this.o.onError(err, `recording what change source ${source} did`)),
    );
  }

  /** This master stops: nothing it ran runs here any more. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#writing;
    await this.o.data.serviceRecords.releaseAllBut(this.o.masterid, { schedulers: [], changeSources: [] });
  }

  async #write(): Promise<void> {
    const { data, masterid, cluster } = this.o;
    const configured = this.o.configured();
    const running = this.o.running();
    const schedulerRuns = new Map<string, SchedulerRun>();
    for (const s of running.schedulers) {
      const status = s.status?.();
      schedulerRuns.set(s.name, {
        masterid: cluster && !schedulerNeedsLease(s.config) ? null : masterid,
        nextRunAt: status?.nextRunAt ?? null,
        lastRunAt: status?.lastRunAt ?? null,
      });
    }
    const sourceRuns = new Map(
      running.changeSources.map((c) => [
        c.name,
        { masterid: cluster && !changeSourceNeedsLease(c) ? null : masterid },
      ]),
    );
    // First what no longer runs here (a lease another master now holds), then the rest.
    await data.serviceRecords.releaseAllBut(masterid, {
      schedulers: [...schedulerRuns.keys()],
      changeSources: [...sourceRuns.keys()],
    });
    await data.serviceRecords.syncSchedulers(configured.schedulers.map(schedulerRecord), schedulerRuns);
    await data.serviceRecords.syncChangeSources(
      configured.changeSources.map((c) => ({ name: c.name, kind: c.type })),
      sourceRuns,
    );
  }
}
