// The master's schedulers, kept in step with the config. Unlike the other service sets a
// reconfig applies to them whole or not at all: if one new scheduler fails to start, the
// ones already started are stopped and the old ones start again, as they were (their
// timers and changes come back from the database). A scheduler whose config is unchanged
// is not touched; one changed within its kind is reconfigured in place and keeps its
// timers; one that changes kind is replaced. Builds are not the schedulers' business: no
// reconfig of them stops one.
import type { EntryChange, EntryDiff } from '../config/diff.js';
import { type ApplyResult, NamedServices } from '../service.js';
import type { AnySchedulerConfig, SchedulerService } from './create.js';

export class SchedulerReconfigError extends Error {
  override readonly name = 'SchedulerReconfigError';
  constructor(
    readonly scheduler: string,
    readonly action: 'stop' | 'start' | 'reconfigure',
    cause: unknown,
  ) {
    super(
      `scheduler ${scheduler} failed to ${action}: ${(cause as Error)?.message ?? String(cause)}; ` +
        'the schedulers were left as they were',
      { cause },
    );
  }
}

export class SchedulerSet extends NamedServices<SchedulerService> {
  constructor(
    private readonly create: (config: AnySchedulerConfig) => SchedulerService,
    /** Deletes what a removed scheduler remembered, so a later one of its name starts afresh. */
    private readonly forget: (name: string) => Promise<void>,
  ) {
    super('schedulers');
  }

  /** Applies the diff, or throws a SchedulerReconfigError with everything as before. */
  async apply(diff: EntryDiff<AnySchedulerConfig>): Promise<ApplyResult> {
    const inPlace: EntryChange<AnySchedulerConfig>[] = [];
    const replaced: EntryChange<AnySchedulerConfig>[] = [];
    for (const c of diff.changed)
      (c.old.kind === c.new.kind && this.services.get(c.name)?.reconfigure ? inPlace : replaced).push(c);
    // Stopped before their successors start: a successor takes over their state by name.
    const leaving = [...diff.removed, ...replaced.map((c) => c.old)]
      .map((c) => this.services.get(c.name))
      .filter((s): s is SchedulerService => s !== undefined);
    const stopped: SchedulerService[] = [];
    const started: SchedulerService[] = [];
    const reconfigured: EntryChange<AnySchedulerConfig>[] = [];
    let step: { name: string; action: SchedulerReconfigError['action'] } = { name: '', action: 'stop' };
    try {
      for (const s of leaving) {
        step = { name: s.name, action: 'stop' };
        if (this.master) await s.stop();
        stopped.push(s);
      }
      for (const config of [...replaced.map((c) => c.new), ...diff.added]) {
        step = { name: config.name, action: 'start' };
        const s = this.create(config);
        if (this.master) await s.start(this.master);
        started.push(s);
      }
      for (const c of inPlace) {
        step = { name: c.name, action: 'reconfigure' };
        await this.services.get(c.name)!.reconfigure!(c.new as never);
        reconfigured.push(c);
      }
    } catch (err) {
      for (const c of reconfigured.reverse())
        await this.services.get(c.name)!.reconfigure!(c.old as never).catch(() => {});
      for (const s of started.reverse()) await s.stop().catch(() => {});
      const master = this.master;
      if (master) for (const s of stopped.reverse()) await s.start(master).catch(() => {});
      throw new SchedulerReconfigError(step.name, step.action, err);
    }
    for (const c of diff.removed) {
      this.services.delete(c.name);
      await this.forget(c.name);
    }
    for (const s of started) this.services.set(s.name, s);
    return {
      added: diff.added.map((c) => c.name),
      reconfigured: inPlace.map((c) => c.name),
      replaced: replaced.map((c) => c.name),
      removed: diff.removed.map((c) => c.name),
    };
  }
}
