// Service lifecycle. Everything long-lived in the master (worker slots, builders, change
// sources, schedulers; the planned reporters; the HTTP server) is a Service with an explicit
// start and stop, so reconfig and shutdown can add, change and remove them one by one.
import type { EntryDiff } from './config/diff.js';

export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A service that can take a new configuration without being restarted. */
export interface ReconfigurableService<C> extends Service {
  reconfigure(config: C): Promise<void>;
}

function isReconfigurable<C>(s: Service): s is ReconfigurableService<C> {
  return typeof (s as Partial<ReconfigurableService<C>>).reconfigure === 'function';
}

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly service: string,
    readonly action: 'start' | 'stop' | 'reconfigure',
    cause: unknown,
  ) {
    super(`service ${service} failed to ${action}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

export class ServiceErrors extends Error {
  override readonly name = 'ServiceErrors';
  constructor(readonly errors: readonly ServiceError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

/** Children started in order and stopped in reverse order. */
export class MultiService implements Service {
  readonly #children: Service[] = [];
  #running = false;

  constructor(readonly name: string) {}

  get running(): boolean {
    return this.#running;
  }

  async add(child: Service): Promise<void> {
    this.#children.push(child);
    if (this.#running) await child.start();
  }

  async start(): Promise<void> {
    const started: Service[] = [];
    try {
      for (const c of this.#children) {
        await c.start();
        started.push(c);
      }
    } catch (err) {
      // Leave nothing half-running: undo what did start.
      for (const c of started.reverse()) await c.stop().catch(() => {});
      throw err instanceof ServiceError ? err : new ServiceError(this.name, 'start', err);
    }
    this.#running = true;
  }

  async stop(): Promise<void> {
    this.#running = false;
    const errors: ServiceError[] = [];
    for (const c of [...this.#children].reverse()) {
      try {
        await c.stop();
      } catch (err) {
        errors.push(new ServiceError(c.name, 'stop', err));
      }
    }
    if (errors.length > 0) throw new ServiceErrors(errors);
  }
}

export interface ApplyResult {
  readonly added: readonly string[];
  readonly reconfigured: readonly string[];
  readonly replaced: readonly string[];
  readonly removed: readonly string[];
}

/**
 * A named set of services of one kind, kept in step with a list of configs. Changed
 * entries are reconfigured in place when the service supports it (so a worker keeps its
 * connection and a builder its running builds), and replaced otherwise.
 */
export class ServiceSet<C extends { readonly name: string }, S extends Service = Service> implements Service {
  readonly #services = new Map<string, S>();
  #running = false;

  constructor(
    readonly name: string,
    private readonly create: (config: C) => S,
  ) {}

  get(name: string): S | undefined {
    return this.#services.get(name);
  }

  values(): IterableIterator<S> {
    return this.#services.values();
  }

  get size(): number {
    return this.#services.size;
  }

  async start(): Promise<void> {
    this.#running = true;
    for (const s of this.#services.values()) await s.start();
  }

  async stop(): Promise<void> {
    this.#running = false;
    const errors: ServiceError[] = [];
    for (const s of [...this.#services.values()].reverse()) {
      try {
        await s.stop();
      } catch (err) {
        errors.push(new ServiceError(s.name, 'stop', err));
      }
    }
    if (errors.length > 0) throw new ServiceErrors(errors);
  }

  /**
   * Applies a diff: removals first (freeing names and resources), then changes, then
   * additions. Every entry is attempted; failures are collected and thrown together.
   */
  async apply(diff: EntryDiff<C>): Promise<ApplyResult> {
    const errors: ServiceError[] = [];
    const result = {
      added: [] as string[],
      reconfigured: [] as string[],
      replaced: [] as string[],
      removed: [] as string[],
    };
    for (const config of diff.removed) {
      const s = this.#services.get(config.name);
      if (!s) continue;
      this.#services.delete(config.name);
      try {
        if (this.#running) await s.stop();
        result.removed.push(config.name);
      } catch (err) {
        errors.push(new ServiceError(config.name, 'stop', err));
      }
    }
    for (const change of diff.changed) {
      const s = this.#services.get(change.name);
      try {
        if (s && isReconfigurable<C>(s)) {
          await s.reconfigure(change.new);
          result.reconfigured.push(change.name);
        } else {
          if (s && this.#running) await s.stop();
          const fresh = this.create(change.new);
          this.#services.set(change.name, fresh);
          if (this.#running) await fresh.start();
          result.replaced.push(change.name);
        }
      } catch (err) {
        errors.push(new ServiceError(change.name, 'reconfigure', err));
      }
    }
    for (const config of diff.added) {
      try {
        const s = this.create(config);
        this.#services.set(config.name, s);
        if (this.#running) await s.start();
        result.added.push(config.name);
      } catch (err) {
        this.#services.delete(config.name);
        errors.push(new ServiceError(config.name, 'start', err));
      }
    }
    if (errors.length > 0) throw new ServiceErrors(errors);
    return result;
  }
}
