// The life of a latent worker inside the master: insubstantial → starting → substantiated
// → stopping → insubstantial. It is a WorkerService (the distributor's slot) that takes
// builds only while substantiated, starts an instance when the distributor asks it to
// (requests wait for it meanwhile, unclaimed), retries failed starts with a doubling delay,
// reports itself missing after `startAttempts` failures in a row (an outbox row for the
// reporters, written with the flag that says this absence was reported), and stops the
// instance after `buildWaitTimeout` seconds without a build.
import type { EventBus } from '../../bus/bus.js';
import type { ResolvedWorker } from '../../config/types.js';
import type { DataLayer, LatentWorkerState } from '../../data/index.js';
import { type WorkerConnection, WorkerService } from '../worker.js';
import type { LatentInstanceContext, LatentWorker } from './latent-worker.js';

/** setTimeout fires at once beyond this (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type LatentState = 'insubstantial' | 'starting' | 'substantiated' | 'stopping';

/** The names the data API gives the states. */
const API_STATE: Record<LatentState, LatentWorkerState> = {
  insubstantial: 'stopped',
  starting: 'starting',
  substantiated: 'running',
  stopping: 'stopping',
};

/** What a latent worker needs from the master besides what every worker gets. */
export interface LatentHost {
  readonly bus: EventBus;
  /** Where the worker port listens, once it does. */
  workerPort(): { readonly host: string; readonly port: number } | null;
  onError(err: unknown, context: string): void;
}

export interface LatentStatus {
  readonly state: LatentState;
  /** Failed start attempts in a row. */
  readonly failures: number;
  readonly lastError: string | null;
  /** Reported missing and waiting out `missingRetryDelay`. */
  readonly missing: boolean;
  /** Epoch ms before which no start is attempted (a retry delay), or null. */
  readonly nextStartAt: number | null;
}

/** The instance did not log in within `startTimeout`. */
export class LatentStartTimeoutError extends Error {
  override readonly name = 'LatentStartTimeoutError';
  constructor(
    readonly worker: string,
    readonly seconds: number,
  ) {
    super(`latent worker ${worker} did not connect within ${seconds} s of being started`);
  }
}

/** The master is stopping or the worker was removed while an instance was starting. */
export class LatentStartAbortedError extends Error {
  override readonly name = 'LatentStartAbortedError';
  constructor(readonly worker: string) {
    super(`latent worker ${worker}: start abandoned, the worker is being stopped`);
  }
}

/** The instance ended before it connected. */
export class LatentInstanceGoneError extends Error {
  override readonly name = 'LatentInstanceGoneError';
  constructor(
    readonly worker: string,
    readonly reason: string,
  ) {
    super(`latent worker ${worker} ended before it connected: ${reason}`);
  }
}

/** A login while the instance is being stopped: it must not take builds. */
export class LatentWorkerStoppingError extends Error {
  override readonly name = 'LatentWorkerStoppingError';
  constructor(readonly worker: string) {
    super(`latent worker ${worker} is being stopped; login refused`);
  }
}

interface Instance {
  readonly driver: LatentWorker;
  readonly ctx: LatentInstanceContext;
  handle: unknown;
}

export class LatentWorkerService extends WorkerService {
  #state: LatentState = 'insubstantial';
  #failures = 0;
  #firstFailureAt = 0;
  #lastError: string | null = null;
  #missing = false;
  #notBefore = 0;
  #attempts = 0;
  #instance: Instance | null = null;
  #startAbort: AbortController | null = null;
  #attached: (() => void) | null = null;
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #idleTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #gone = false;
  /** The last failed start and when (epoch seconds), kept after a success for the data API. */
  #lastStartError: string | null = null;
  #lastStartErrorAt: number | null = null;
  /** Epoch seconds at which the idle timer stops the instance, or null. */
  #idleStopAt: number | null = null;
  /** Status writes for the data API, one at a time and in order. */
  #recording: Promise<void> = Promise.resolve();
  readonly #onAvailable: () => void;
  readonly #data: DataLayer;
  readonly #masterid: () => number;

  constructor(
    config: ResolvedWorker & { readonly latent: LatentWorker },
    data: DataLayer,
    masterid: () => number,
    onAvailable: () => void,
    private readonly host: LatentHost,
  ) {
    super(config, data, masterid, onAvailable);
    this.#onAvailable = onAvailable;
    this.#data = data;
    this.#masterid = masterid;
  }

  override async start(): Promise<void> {
    await super.start();
    this.#record();
  }

  get state(): LatentState {
    return this.#state;
  }

  get latent(): LatentWorker {
    return (this.config as ResolvedWorker & { latent: LatentWorker }).latent;
  }

  get latentStatus(): LatentStatus {
    return {
      state: this.#state,
      failures: this.#failures,
      lastError: this.#lastError,
      missing: this.#missing,
      nextStartAt: this.#notBefore > Date.now() ? this.#notBefore : null,
    };
  }

  /** True when asking for an instance now would start one. */
  canSubstantiate(): boolean {
    return this.#state === 'insubstantial' && !this.#gone && !this.paused && Date.now() >= this.#notBefore;
  }

  /** Starts an instance (when canSubstantiate()); its outcome is reported on the bus. */
  substantiate(): void {
    if (!this.canSubstantiate()) return;
    this.#starting = this.#startAttempt().finally(() => {
      this.#starting = null;
    });
  }

  override isAvailable(): boolean {
    return this.#state === 'substantiated' && super.isAvailable();
  }

  override async attach(connection: WorkerConnection, info: Record<string, unknown>): Promise<void> {
    if (this.#state === 'stopping' || this.#gone) throw new LatentWorkerStoppingError(this.name);
    if (this.#state === 'insubstantial') {
      // An instance we did not start (left over from an earlier master run, or started by
      // hand): adopt it, so that it is stopped once idle like one of ours.
      this.#instance = {
        driver: this.latent,
        ctx: this.#context(0, new AbortController().signal),
        handle: undefined,
      };
    }
    const wasStarting = this.#state === 'starting';
    this.#setState('substantiated');
    try {
      await super.attach(connection, info);
    } catch (err) {
      if (!wasStarting) this.#instance = null;
      this.#setState(wasStarting ? 'starting' : 'insubstantial');
      throw err;
    }
    // Seen (started by us or adopted): a later failure to start is a new absence, reported again.
    await this.#data.reportEvents
      .workersSeen([this.name])
      .catch((err) => this.host.onError(err, `recording that latent worker ${this.name} is up`));
    this.#attached?.();
    this.#armIdleTimer();
  }

  override async detach(): Promise<void> {
    const wasConnected = this.connected;
    await super.detach();
    if (wasConnected && this.#state === 'substantiated') {
      // The instance went away (or its connection did): free what it holds; a new one is
      // started if requests still wait.
      await this.#stopInstance('its connection was lost');
    }
  }

  override acquire(): void {
    super.acquire();
    clearTimeout(this.#idleTimer);
    this.#setIdleStopAt(null);
  }

  override release(): void {
    super.release();
    this.#armIdleTimer();
  }

  override async reconfigure(config: ResolvedWorker): Promise<void> {
    await super.reconfigure(config);
    // New settings may lift a missing report: let the next pass try again.
    if (this.#state === 'insubstantial') this.#notBefore = 0;
    this.#armIdleTimer();
    this.#record();
  }

  override async stop(): Promise<void> {
    this.#gone = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#idleTimer);
    this.#startAbort?.abort(new LatentStartAbortedError(this.name));
    await this.#starting;
    if (this.#state === 'substantiated')
      await this.#stopInstance('the master is stopping or the worker was removed');
    await this.#stopping;
    await this.#recording;
    await super.stop();
  }

  #armIdleTimer(): void {
    clearTimeout(this.#idleTimer);
    const seconds = this.latent.buildWaitTimeout;
    const idle =
      this.#state === 'substantiated' &&
      this.runningBuilds === 0 &&
      !this.#gone &&
      // Longer than a timer can wait: never idle out.
      seconds * 1000 <= MAX_TIMER_MS;
    this.#setIdleStopAt(idle ? Math.floor(Date.now() / 1000) + seconds : null);
    if (!idle) return;
    this.#idleTimer = setTimeout(() => {
      if (this.#state === 'substantiated' && this.runningBuilds === 0)
        void this.#stopInstance(`idle for ${seconds} s`);
    }, seconds * 1000);
    this.#idleTimer.unref();
  }

  async #startAttempt(): Promise<void> {
    const driver = this.latent;
    const attempt = ++this.#attempts;
    const abort = new AbortController();
    this.#startAbort = abort;
    const timer = setTimeout(
      () => abort.abort(new LatentStartTimeoutError(this.name, driver.startTimeout)),
      Math.min(driver.startTimeout * 1000, MAX_TIMER_MS),
    );
    const ctx = this.#context(attempt, abort.signal);
    const instance: Instance = { driver, ctx, handle: undefined };
    this.#instance = instance;
    this.#setState('starting');
    try {
      const attached = new Promise<void>((resolve) => {
        this.#attached = resolve;
      });
      instance.handle = await untilAborted(driver.start(ctx), abort.signal);
      await untilAborted(attached, abort.signal);
      this.#failures = 0;
      this.#missing = false;
      this.#lastError = null;
      this.#record();
    } catch (err) {
      abort.abort(err);
      await this.#failedAttempt(instance, err);
    } finally {
      clearTimeout(timer);
      this.#attached = null;
      if (this.#startAbort === abort) this.#startAbort = null;
    }
  }

  async #failedAttempt(instance: Instance, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    this.host.onError(err, `starting latent worker ${this.name} (attempt ${instance.ctx.attempt})`);
    // It may have connected just as the attempt gave up: it must not take builds.
    this.#setState('stopping');
    await this.#runStop(instance, 'its start failed');
    await this.#dropConnection('its start failed');
    this.#instance = null;
    if (this.#failures === 0) this.#firstFailureAt = Math.floor(Date.now() / 1000);
    this.#failures++;
    this.#lastError = message;
    this.#lastStartError = message;
    this.#lastStartErrorAt = Math.floor(Date.now() / 1000);
    const { workerid, name } = this;
    const driver = instance.driver;
    if (this.#gone) {
      this.#setState('insubstantial');
      return;
    }
    const giveUp = this.#failures >= driver.startAttempts;
    const delay = giveUp ? driver.missingRetryDelay : driver.retryDelay * 2 ** (this.#failures - 1);
    this.host.bus.publish('worker.start-failed', {
      workerid,
      name,
      attempt: this.#failures,
      error: message,
      retryInSeconds: giveUp ? null : delay,
    });
    if (giveUp) {
      this.#missing = true;
      const startFailure = { attempts: this.#failures, since: this.#firstFailureAt, error: message };
      // Durable before it is announced: the reporters read the outbox, not the bus.
      await this.#data.reportEvents
        .reportMissing({ name, workerid, startFailure })
        .catch((err) => this.host.onError(err, `recording that latent worker ${name} is missing`));
      this.host.bus.publish('worker.missing', {
        workerid,
        name,
        attempts: this.#failures,
        error: message,
        since: this.#firstFailureAt,
      });
      this.#failures = 0;
    }
    this.#notBefore = Date.now() + delay * 1000;
    this.#setState('insubstantial');
    // Then the distributor decides whether requests still want an instance.
    this.#retryTimer = setTimeout(() => this.#poke(), Math.min(delay * 1000, MAX_TIMER_MS));
    this.#retryTimer.unref();
  }

  /** Stops the running instance; concurrent calls share one stop. */
  #stopInstance(reason: string): Promise<void> {
    if (this.#stopping) return this.#stopping;
    const instance = this.#instance;
    clearTimeout(this.#idleTimer);
    this.#idleStopAt = null; // Written with the state.
    this.#setState('stopping');
    this.#stopping = (async () => {
      try {
        if (instance) await this.#runStop(instance, reason);
        await this.#dropConnection(reason);
      } finally {
        this.#instance = null;
        this.#stopping = null;
        this.#setState('insubstantial');
        this.#poke();
      }
    })();
    return this.#stopping;
  }

  /** Whatever the driver did, no connection may outlive the instance. */
  async #dropConnection(reason: string): Promise<void> {
    const conn = this.connection;
    if (!conn) return;
    await super.detach();
    await conn.disconnect(`latent worker stopped: ${reason}`).catch(() => {});
  }

  async #runStop(instance: Instance, reason: string): Promise<void> {
    const abort = new AbortController();
    const seconds = instance.driver.stopTimeout;
    const timer = setTimeout(
      () => abort.abort(new Error(`stop did not finish within ${seconds} s`)),
      Math.min(seconds * 1000, MAX_TIMER_MS),
    );
    try {
      await untilAborted(
        instance.driver.stop({ ...instance.ctx, signal: abort.signal, handle: instance.handle }),
        abort.signal,
      );
    } catch (err) {
      this.host.onError(err, `stopping latent worker ${this.name} (${reason})`);
    } finally {
      clearTimeout(timer);
    }
  }

  #poke(): void {
    if (!this.#gone) this.#onAvailable();
  }

  /** The driver says the instance ended by itself. */
  #instanceGone(ctx: LatentInstanceContext, reason: string): void {
    if (this.#instance?.ctx !== ctx) return; // An earlier instance, already dealt with.
    if (this.#state === 'starting') this.#startAbort?.abort(new LatentInstanceGoneError(this.name, reason));
    else if (this.#state === 'substantiated') void this.#stopInstance(`it ended: ${reason}`);
  }

  #context(attempt: number, signal: AbortSignal): LatentInstanceContext {
    const driver = this.latent;
    const port = this.host.workerPort();
    const address = driver.masterAddress ?? `${port?.host ?? 'localhost'}:${port?.port ?? 9989}`;
    const colon = address.lastIndexOf(':');
    const ctx: LatentInstanceContext = {
      instanceGone: (reason) => this.#instanceGone(ctx, reason),
      workerName: this.name,
      password: this.config.password,
      masterAddress: address,
      masterHost: address.slice(0, colon),
      masterPort: Number(address.slice(colon + 1)),
      attempt,
      signal,
    };
    return ctx;
  }

  #setState(state: LatentState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.host.bus.publish('worker.latent', { workerid: this.workerid, name: this.name, state });
    this.#record();
  }

  #setIdleStopAt(at: number | null): void {
    if (this.#idleStopAt === at) return;
    this.#idleStopAt = at;
    this.#record();
  }

  /** Writes what the data API shows of this worker as it is now (after the writes before it). */
  #record(): void {
    const workerid = this.workerid;
    if (workerid === 0) return; // Not started: start() records it.
    const status = {
      state: API_STATE[this.#state],
      lastStartError: this.#lastStartError,
      lastStartErrorAt: this.#lastStartErrorAt,
      missing: this.#missing,
      nextStartAt: this.#notBefore > Date.now() ? Math.ceil(this.#notBefore / 1000) : null,
      idleStopAt: this.#idleStopAt,
    };
    this.#recording = this.#recording
      .then(() => this.#data.latentWorkers.record(workerid, this.#masterid(), status))
      .catch((err) => this.host.onError(err, `recording the state of latent worker ${this.name}`));
  }
}

/** `promise`, or the signal's reason once it is aborted, whichever comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
