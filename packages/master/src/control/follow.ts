// Follows one forced build request on the bus and reports its progress as ForceEvents.
// Subscriptions are made *before* the buildset is added (the bus delivers asynchronously,
// but a handler could still run before `add` returns), so the handlers wait for the ids.
import type { EventBus, Subscription } from '../bus/bus.js';
import type { BusMessage } from '../bus/events.js';
import type { ForceEvent } from './protocol.js';

export interface FollowIds {
  readonly buildsetid: number;
  readonly buildrequestid: number;
  readonly builderid: number;
}

export class BuildFollower {
  readonly #subs: Subscription[] = [];
  readonly #builds = new Set<number>();
  readonly #stepNames = new Map<number, string>();
  #ids: FollowIds | null = null;
  #resolveIds!: (ids: FollowIds | null) => void;
  readonly #idsReady = new Promise<FollowIds | null>((r) => {
    this.#resolveIds = r;
  });
  #done = false;

  constructor(
    bus: EventBus,
    builderid: number,
    private readonly emit: (event: ForceEvent) => void | Promise<void>,
  ) {
    const on = (pattern: string, fn: (m: BusMessage) => void | Promise<void>) =>
      this.#subs.push(
        bus.subscribe(
          pattern,
          async (m) => {
            const ids = await this.#idsReady;
            if (ids && !this.#done) await fn(m);
          },
          { name: `control follow ${pattern}`, maxQueue: 1000 },
        ),
      );
    on(`buildrequest.*.${builderid}.*`, (m) => {
      const p = m.payload as { buildrequestid: number; results?: number };
      if (p.buildrequestid !== this.#ids?.buildrequestid) return;
      if (m.kind === 'buildrequest.claimed')
        return this.emit({ type: 'claimed', buildrequestid: p.buildrequestid });
      if (m.kind === 'buildrequest.unclaimed')
        return this.emit({ type: 'unclaimed', buildrequestid: p.buildrequestid });
      if (m.kind === 'buildrequest.complete')
        return this.emit({
          type: 'requestComplete',
          buildrequestid: p.buildrequestid,
          results: p.results ?? 0,
        });
    });
    on(`build.*.${builderid}.*`, (m) => {
      if (m.kind === 'build.started') {
        const p = m.payload as { buildid: number; number: number; buildrequestid: number };
        if (p.buildrequestid !== this.#ids?.buildrequestid) return;
        this.#builds.add(p.buildid);
        return this.emit({ type: 'buildStarted', buildid: p.buildid, number: p.number });
      }
      if (m.kind === 'build.finished') {
        const p = m.payload as { buildid: number; number: number; results: number };
        if (!this.#builds.has(p.buildid)) return;
        return this.emit({ type: 'buildFinished', buildid: p.buildid, number: p.number, results: p.results });
      }
    });
    // Step events carry only the build id; we learn our builds from build.started.
    on('step.*.*.*', (m) => {
      const p = m.payload as { stepid: number; buildid: number; name?: string; results?: number };
      if (!this.#builds.has(p.buildid)) return;
      if (m.kind === 'step.started') this.#stepNames.set(p.stepid, p.name ?? `step ${p.stepid}`);
      else if (m.kind === 'step.finished')
        return this.emit({
          type: 'stepFinished',
          buildid: p.buildid,
          name: this.#stepNames.get(p.stepid) ?? `step ${p.stepid}`,
          results: p.results ?? 0,
        });
    });
    on('buildset.complete.*', (m) => {
      const p = m.payload as { buildsetid: number; results: number };
      if (p.buildsetid !== this.#ids?.buildsetid) return;
      const final = this.emit({ type: 'buildsetComplete', buildsetid: p.buildsetid, results: p.results });
      this.stop();
      return final;
    });
  }

  /** The request was added: start reporting. */
  begin(ids: FollowIds): void {
    this.#ids = ids;
    this.#resolveIds(ids);
  }

  stop(): void {
    this.#done = true;
    this.#resolveIds(null);
    for (const s of this.#subs) s.unsubscribe();
  }
}
