// A configured worker: its identity, current settings, and — once the worker protocol
// attaches one — its connection. Reconfiguring changes settings in place and never touches
// the connection or the builds running on it.
import { timingSafeEqual } from 'node:crypto';
import type { ResolvedWorker } from '../config/types.js';
import type { DataLayer } from '../data/index.js';
import type { WorkerSlot } from '../distributor/slots.js';
import type { ReconfigurableService } from '../service.js';

/** What the PB layer provides for a connected worker. */
export interface WorkerConnection {
  /** Closes the connection, e.g. when the worker is removed from the configuration. */
  disconnect(reason: string): Promise<void>;
  /** Asks the worker process to exit; connections that cannot just disconnect. */
  shutdown?(): Promise<void>;
}

export class WorkerAlreadyConnectedError extends Error {
  override readonly name = 'WorkerAlreadyConnectedError';
  constructor(readonly worker: string) {
    super(`worker ${worker} is already connected`);
  }
}

let assignmentCounter = 0;

export class WorkerService implements ReconfigurableService<ResolvedWorker>, WorkerSlot {
  #config: ResolvedWorker;
  #workerid = 0;
  #connection: WorkerConnection | null = null;
  #running = 0;
  #lastAssigned = 0;
  #removed = false;
  #graceful = false;
  paused = false;
  /** What the worker is told when stop() closes its connection. */
  stopReason = 'worker removed from the master configuration';

  /**
   * @param onAvailable called whenever this worker may have room for a build (it connected,
   *   a build released its slot, its maxBuilds grew) — the master points it at the distributor.
   */
  constructor(
    config: ResolvedWorker,
    private readonly data: DataLayer,
    private readonly masterid: () => number,
    private readonly onAvailable: () => void = () => {},
  ) {
    this.#config = config;
  }

  get name(): string {
    return this.#config.name;
  }
  get config(): ResolvedWorker {
    return this.#config;
  }
  get workerid(): number {
    return this.#workerid;
  }
  get maxBuilds(): number | null {
    return this.#config.maxBuilds;
  }
  get properties(): Readonly<Record<string, unknown>> {
    return this.#config.properties;
  }
  get runningBuilds(): number {
    return this.#running;
  }
  get lastAssigned(): number {
    return this.#lastAssigned;
  }
  get connected(): boolean {
    return this.#connection !== null;
  }
  /** The live connection, for the build runner (see `isWorkerChannel`). */
  get connection(): WorkerConnection | null {
    return this.#connection;
  }
  /** Shutting down once idle: takes no new builds. */
  get graceful(): boolean {
    return this.#graceful;
  }

  async start(): Promise<void> {
    this.#workerid = await this.data.workers.findOrCreate(this.#config.name);
  }

  async reconfigure(config: ResolvedWorker): Promise<void> {
    this.#config = config;
    this.onAvailable();
  }

  /** Removed from the configuration: no new builds, and the connection is closed. */
  async stop(): Promise<void> {
    this.#removed = true;
    const conn = this.#connection;
    if (conn) {
      await this.detach();
      await conn.disconnect(this.stopReason);
    }
  }

  /** Constant-time password check for the worker protocol's login. */
  checkPassword(password: string): boolean {
    const a = Buffer.from(password);
    const b = Buffer.from(this.#config.password);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Called by the worker protocol once the worker has logged in. */
  async attach(connection: WorkerConnection, info: Record<string, unknown>): Promise<void> {
    if (this.#connection) throw new WorkerAlreadyConnectedError(this.name);
    this.#connection = connection;
    // A fresh connection starts without a pending graceful shutdown, and the recorded state
    // is rewritten (it may be stale from a previous master run), as in Buildbot.
    this.#graceful = false;
    await this.#saveState();
    await this.data.workers.connected(this.#workerid, this.masterid(), info);
    this.onAvailable();
  }

  /** Called by the worker protocol when the connection is gone. */
  async detach(): Promise<void> {
    if (!this.#connection) return;
    this.#connection = null;
    await this.data.workers.disconnected(this.#workerid, this.masterid());
  }

  /** Stops giving this worker new builds; running builds go on. */
  async pause(): Promise<void> {
    this.paused = true;
    await this.#saveState();
  }

  async unpause(): Promise<void> {
    this.paused = false;
    await this.#saveState();
    this.onAvailable();
  }

  /**
   * Shuts the worker process down: at once, or (graceful) when its running builds are done,
   * taking no new ones meanwhile. The worker asking for it itself is a graceful request.
   */
  async shutdown(options: { graceful: boolean } = { graceful: true }): Promise<void> {
    if (!options.graceful) {
      await this.#connection?.shutdown?.();
      return;
    }
    this.#graceful = true;
    await this.#saveState();
    await this.#maybeShutdown();
  }

  async #maybeShutdown(): Promise<void> {
    if (this.#graceful && this.#running === 0) await this.#connection?.shutdown?.();
  }

  async #saveState(): Promise<void> {
    if (this.#workerid === 0) return;
    await this.data.workers.setState(this.#workerid, { paused: this.paused, graceful: this.#graceful });
  }

  isAvailable(): boolean {
    if (!this.#connection || this.paused || this.#graceful || this.#removed) return false;
    return this.#config.maxBuilds === null || this.#running < this.#config.maxBuilds;
  }

  acquire(): void {
    this.#running++;
    this.#lastAssigned = ++assignmentCounter;
  }

  release(): void {
    if (this.#running > 0) this.#running--;
    // Not left to the 'build.finished' event: the runner may release after publishing it.
    this.onAvailable();
    this.#maybeShutdown().catch(() => {
      // The connection is going away anyway; nothing to retry.
    });
  }
}
