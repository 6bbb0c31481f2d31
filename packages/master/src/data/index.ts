// The data layer: the only code that touches the database. Each part publishes its
// changes on the event bus after they are committed.
import type { EventBus } from '../bus/bus.js';
import type { Db } from '../db/connection.js';
import { AnnotationsData } from './annotations.js';
import { ApiTokensData } from './api-tokens.js';
import { BisectionsData } from './bisections.js';
import { BlameData } from './blame.js';
import { BuildersData } from './builders.js';
import { BuildRequestsData } from './buildrequests.js';
import { BuildsData } from './builds.js';
import { BuildsetsData } from './buildsets.js';
import { ChangeSourceStateData } from './change-source-state.js';
import { ChangesData } from './changes.js';
import { CollectionData } from './collection.js';
import { type DataContext, epochSeconds } from './context.js';
import { LatentWorkersData } from './latent-workers.js';
import { LeasesData } from './leases.js';
import { LogsData } from './logs.js';
import { MastersData } from './masters.js';
import { MetricsData } from './metrics.js';
import { OutboxData } from './outbox.js';
import { ReportEventsData } from './report-events.js';
import { SchedulerStateData } from './scheduler-state.js';
import { ServiceRecordsData } from './service-records.js';
import { SessionsData } from './sessions.js';
import { SourceStampsData } from './sourcestamps.js';
import { StepsData } from './steps.js';
import { TestHistoryData } from './test-history.js';
import { WorkersData } from './workers.js';

export interface DataLayerOptions {
  /** Epoch seconds; tests inject a fake clock. */
  readonly now?: () => number;
}

export class DataLayer {
  readonly ctx: DataContext;
  readonly masters: MastersData;
  readonly workers: WorkersData;
  readonly builders: BuildersData;
  readonly sourcestamps: SourceStampsData;
  readonly changes: ChangesData;
  readonly buildsets: BuildsetsData;
  readonly buildrequests: BuildRequestsData;
  readonly builds: BuildsData;
  readonly steps: StepsData;
  readonly logs: LogsData;
  readonly metrics: MetricsData;
  readonly apiTokens: ApiTokensData;
  readonly sessions: SessionsData;
  readonly blame: BlameData;
  readonly bisections: BisectionsData;
  readonly schedulerState: SchedulerStateData;
  readonly changeSourceState: ChangeSourceStateData;
  /** The reporters' outbox, cursors and worker presence. */
  readonly reportEvents: ReportEventsData;
  /** Several masters: who runs which scheduler and change source. */
  readonly leases: LeasesData;
  /** Several masters: the events each published, for the others. */
  readonly outbox: OutboxData;
  readonly testHistory: TestHistoryData;
  readonly annotations: AnnotationsData;
  readonly latentWorkers: LatentWorkersData;
  /** The configured schedulers and change sources, for the data API. */
  readonly serviceRecords: ServiceRecordsData;
  /** Pages of any table by column conditions: what the data API (api/) reads through. */
  readonly collection: CollectionData;

  constructor(
    readonly db: Db,
    readonly bus: EventBus,
    options: DataLayerOptions = {},
  ) {
    this.ctx = { db: db.kysely, bus, now: options.now ?? epochSeconds, dialect: db.dialect };
    this.masters = new MastersData(this.ctx);
    this.workers = new WorkersData(this.ctx);
    this.builders = new BuildersData(this.ctx);
    this.sourcestamps = new SourceStampsData(this.ctx);
    this.changes = new ChangesData(this.ctx, this.sourcestamps);
    this.buildsets = new BuildsetsData(this.ctx);
    this.buildrequests = new BuildRequestsData(this.ctx, this.buildsets);
    this.builds = new BuildsData(this.ctx);
    this.steps = new StepsData(this.ctx);
    this.logs = new LogsData(this.ctx);
    this.metrics = new MetricsData(this.ctx);
    this.apiTokens = new ApiTokensData(this.ctx);
    this.sessions = new SessionsData(this.ctx);
    this.blame = new BlameData(this.ctx, this.changes);
    this.bisections = new BisectionsData(this.ctx);
    this.schedulerState = new SchedulerStateData(this.ctx);
    this.changeSourceState = new ChangeSourceStateData(this.ctx);
    this.reportEvents = new ReportEventsData(this.ctx);
    this.leases = new LeasesData(this.ctx);
    this.outbox = new OutboxData(this.ctx);
    this.testHistory = new TestHistoryData(this.ctx);
    this.annotations = new AnnotationsData(this.ctx);
    this.latentWorkers = new LatentWorkersData(this.ctx);
    this.serviceRecords = new ServiceRecordsData(this.ctx);
    this.collection = new CollectionData(this.ctx);
  }
}

export * from './annotations.js';
export * from './api-tokens.js';
export * from './bisections.js';
export * from './blame.js';
export * from './builders.js';
export * from './buildrequests.js';
export * from './builds.js';
export * from './buildsets.js';
export * from './change-source-state.js';
export * from './changes.js';
export * from './collection.js';
export * from './errors.js';
export * from './housekeeping.js';
export * from './latent-workers.js';
export * from './leases.js';
export * from './lifecycle.js';
export * from './logs.js';
export * from './masters.js';
export * from './metrics.js';
export * from './outbox.js';
export * from './report-events.js';
export * from './service-records.js';
export * from './sourcestamps.js';
export * from './steps.js';
export * from './test-history.js';
export * from './workers.js';
