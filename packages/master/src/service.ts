// Service lifecycle: the one way anything long-lived runs in the master. Worker slots,
// builders, change sources, schedulers, the bisector, the distributor, the worker port, the
// build runner and the HTTP server are all Services in one tree rooted at the Master
// (`master.services`), started in order and stopped in reverse, so reconfig and shutdown
// add, change and remove them one by one, and a part attached after start-up
// (`master.addService`) is stopped with the rest.
import type { EntryDiff } from './config/diff.js';
import type { Master } from './master.js';

export interface Service {
  readonly name: string;
  /**
   * `master` is the running master the service belongs to; most services were given what
   * they need when built and ignore it, parts attached from outside (the worker port, the
   * HTTP server) take what they need from it.
   */
  start(master: Master): Promise<void>;
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

/**
 * What to show a user for an error: a service that failed says which one, but the reason
 * (a port in use, a broken config) is its cause's to say, in the cause's own words.
 */
export function serviceFailureCause(err: unknown): unknown {
  return err instanceof ServiceError && err.cause !== undefined ? serviceFailureCause(err.cause) : err;
}

export class ServiceErrors extends Error {
  override readonly name = 'ServiceErrors';
  constructor(readonly errors: readonly ServiceError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

/** Stops each service, last first, going on past failures, which are thrown together. */
async function stopAll(services: readonly Service[]): Promise<void> {
  const errors: ServiceError[] = [];
  for (const s of [...services].reverse()) {
    try {
      await s.stop();
    } catch (err) {
      errors.push(err instanceof ServiceError ? err : new ServiceError(s.name, 'stop', err));
    }
  }
  if (errors.length > 0) throw new ServiceErrors(errors);
}

/** Children started in order and stopped in reverse order. */
export class MultiService implements Service {
  readonly #children: Service[] = [];
  #master: Master | null = null;

  constructor(readonly name: string) {}

  get running(): boolean {
    return this.#master !== null;
  }

  /** Adds a child, started at once when this service runs (a failed start leaves it out). */
  async add(child: Service): Promise<void> {
    if (this.#master) {
      try {
        await child.start(this.#master);
      } catch (err) {
        throw err instanceof ServiceError ? err : new ServiceError(child.name, 'start', err);
      }
    }
    this.#children.push(child);
  }

  /** Stops a child (when running) and removes it; false when it is not a child. */
  async remove(child: Service): Promise<boolean> {
    const i = this.#children.indexOf(child);
    if (i < 0) return false;
    this.#children.splice(i, 1);
    if (this.#master) await stopAll([child]);
    return true;
  }

  async start(master: Master): Promise<void> {
    const started: Service[] = [];
    try {
      for (const c of this.#children) {
        await c.start(master);
        started.push(c);
      }
    } catch (err) {
      // Leave nothing half-running: undo what did start.
      await stopAll(started).catch(() => {});
      throw err instanceof ServiceError ? err : new ServiceError(this.name, 'start', err);
    }
    this.#master = master;
  }

  async stop(): Promise<void> {
    this.#master = null;
    await stopAll(this.#children);
  }
}

/**
 * Services of one kind keyed by name, all started and stopped together; the subclasses
 * decide how a config diff changes them.
 */
export abstract class NamedServices<S extends Service> implements Service {
  protected readonly services = new Map<string, S>();
  /** The master while running; null when stopped (then changes start nothing). */
  protected master: Master | null = null;

  constructor(readonly name: string) {}

  get(name: string): S | undefined {
    return this.services.get(name);
  }

  values(): IterableIterator<S> {
    return this.services.values();
  }

  get size(): number {
    return this.services.size;
  }

  async start(master: Master): Promise<void> {
    this.master = master;
    for (const s of this.services.values()) await s.start(master);
  }

  async stop(): Promise<void> {
    this.master = null;
    await stopAll([...this.services.values()]);
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
export class ServiceSet<
  C extends { readonly name: string },
  S extends Service = Service,
> extends NamedServices<S> {
  constructor(
    name: string,
    private readonly create: (config: C) => S,
  ) {
    super(name);
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
      const s = this.services.get(config.name);
      if (!s) continue;
      this.services.delete(config.name);
      try {
        if (this.master) await s.stop();
        result.removed.push(config.name);
      } catch (err) {
        errors.push(new ServiceError(config.name, 'stop', err));
      }
    }
    for (const change of diff.changed) {
      const s = this.services.get(change.name);
      try {
        if (s && isReconfigurable<C>(s)) {
          await s.reconfigure(change.new);
          result.reconfigured.push(change.name);
        } else {
          if (s && this.master) await s.stop();
          const fresh = this.create(change.new);
          this.services.set(change.name, fresh);
          if (this.master) await fresh.start(this.master);
          result.replaced.push(change.name);
        }
      } catch (err) {
        errors.push(new ServiceError(change.name, 'reconfigure', err));
      }
    }
    for (const config of diff.added) {
      try {
        const s = this.create(config);
        this.services.set(config.name, s);
        if (this.master) await s.start(this.master);
        result.added.push(config.name);
      } catch (err) {
        this.services.delete(config.name);
        errors.push(new ServiceError(config.name, 'start', err));
      }
    }
    if (errors.length > 0) throw new ServiceErrors(errors);
    return result;
  }
}
