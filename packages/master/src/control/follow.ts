// Follows one forced build request on the bus and reports its progress as ForceEvents.
// The subscription is made *before* the buildset is added (the bus delivers asynchronously,
// but a handler could still run before `add` returns), so the handler waits for the ids.
import type { EventBus, Subscription } from '../bus/bus.js';
import type { BusEvents, BusMessage } from '../bus/events.js';
import type { ForceEvent } from './protocol.js';

export interface FollowIds {
  readonly buildsetid: number;
  readonly buildrequestid: number;
  readonly builderid: number;
}

export class BuildFollower {
  readonly #sub: Subscription;
  readonly #builds = new Set<number>();
  readonly #stepNames = new Map<number, string>();
  #ids: FollowIds | null = null;
  #resolveIds!: (ids: FollowIds | null) => void;
  readonly #idsReady = new Promise<FollowIds | null>((r) => {
    this.#resolveIds = r;
  });
  #done = false;

  /**
   * @param emit must not block: it is called in bus order from one subscription, and the
   *   order (steps before the build's end, the build before the buildset) is the point.
   */
  constructor(
    bus: EventBus,
    private readonly builderid: number,
    private readonly emit: (event: ForceEvent) => void,
  ) {
    // One subscription for every kind: separate subscriptions each have their own queue,
    // so their handlers would run in no particular order relative to each other.
    this.#sub = bus.subscribe(
      '#',
      async (m) => {
        if (!this.#ids) await this.#idsReady;
        if (this.#ids && !this.#done) this.#handle(m);
      },
      { name: `control: follow builder ${builderid}` },
    );
  }

  #handle(m: BusMessage): void {
    const ids = this.#ids!;
    switch (m.kind) {
      case 'buildrequest.claimed':
      case 'buildrequest.unclaimed':
      case 'buildrequest.complete': {
        const p = m.payload as { buildrequestid: number; results?: number };
        if (p.buildrequestid !== ids.buildrequestid) return;
        if (m.kind === 'buildrequest.complete')
          this.emit({ type: 'requestComplete', buildrequestid: p.buildrequestid, results: p.results ?? 0 });
        else
          this.emit({
            type: m.kind === 'buildrequest.claimed' ? 'claimed' : 'unclaimed',
            buildrequestid: p.buildrequestid,
          });
        return;
      }
      case 'build.started': {
        const p = m.payload as BusEvents['build.started'];
        if (p.buildrequestid !== ids.buildrequestid || p.builderid !== this.builderid) return;
        this.#builds.add(p.buildid);
        this.emit({ type: 'buildStarted', buildid: p.buildid, number: p.number });
        return;
      }
      case 'build.finished': {
        const p = m.payload as BusEvents['build.finished'];
        if (!this.#builds.has(p.buildid)) return;
        this.emit({ type: 'buildFinished', buildid: p.buildid, number: p.number, results: p.results });
        return;
      }
      // Step events carry only the build id; we learn our builds from build.started.
      case 'step.started': {
        const p = m.payload as BusEvents['step.started'];
        if (this.#builds.has(p.buildid)) this.#stepNames.set(p.stepid, p.name);
        return;
      }
      case 'step.finished': {
        const p = m.payload as BusEvents['step.finished'];
        if (!this.#builds.has(p.buildid)) return;
        this.emit({
          type: 'stepFinished',
          buildid: p.buildid,
          name: this.#stepNames.get(p.stepid) ?? `step ${p.stepid}`,
          results: p.results,
        });
        return;
      }
      case 'buildset.complete': {
        const p = m.payload as BusEvents['buildset.complete'];
        if (p.buildsetid !== ids.buildsetid) return;
        this.emit({ type: 'buildsetComplete', buildsetid: p.buildsetid, results: p.results });
        this.stop();
        return;
      }
      default:
        return;
    }
  }

  /** The request was added: start reporting. */
  begin(ids: FollowIds): void {
    this.#ids = ids;
    this.#resolveIds(ids);
  }

  stop(): void {
    this.#done = true;
    this.#resolveIds(null);
    this.#sub.unsubscribe();
  }
}
