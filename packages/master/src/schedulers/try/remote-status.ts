// What `buildbot try --connect=pb --wait` follows after handing in a job: the buildset's
// requests, each request's builds, and each build's steps and result, as the remote
// objects of Buildbot's Try_Userpass (getBuildRequests → subscribe → newbuild →
// subscribe/waitUntilFinished → getResults/getText). Beyond Buildbot, a build also answers
// getSteps and getLogTail, which `lathe try` uses to show what failed.
import { Referenceable, type RemoteReference, tuple } from '@lathe/pb';
import type { EventBus } from '../../bus/bus.js';
import type { BuildRow } from '../../data/builds.js';
import type { DataLayer } from '../../data/index.js';

/** What the remote status objects read. */
export interface TryStatusContext {
  readonly data: DataLayer;
  readonly bus: EventBus;
}

/** The most lines getLogTail hands out: a client cannot make the master read a whole log. */
const MAX_TAIL_LINES = 1000;
/** Header lines read beyond the wanted tail (exit code, elapsed time, and some to spare). */
const HEADER_SLACK = 20;

export class RemoteBuildSetStatus extends Referenceable {
  constructor(
    private readonly ctx: TryStatusContext,
    private readonly requests: ReadonlyMap<string, number>,
  ) {
    super();
  }

  remote_getBuildRequests(): unknown[] {
    return [...this.requests].map(([builder, brid]) =>
      tuple<unknown>(builder, new RemoteBuildRequest(this.ctx, builder, brid)),
    );
  }
}

export class RemoteBuildRequest extends Referenceable {
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly ctx: TryStatusContext,
    readonly builderName: string,
    readonly buildrequestid: number,
  ) {
    super();
  }

  /** Tells `subscriber` (newbuild) of each build of this request, those already started first. */
  async remote_subscribe(subscriber: RemoteReference): Promise<void> {
    const request = await this.ctx.data.buildrequests.get(this.buildrequestid);
    if (!request) return;
    this.remote_unsubscribe();
    const reported = new Set<number>();
    const report = async (build: BuildRow | undefined) => {
      if (!build || build.buildrequestid !== this.buildrequestid || reported.has(build.id)) return;
      reported.add(build.id);
      await subscriber.callRemote(
        'newbuild',
        new RemoteBuild(this.ctx, build.id, this.builderName),
        this.builderName,
      );
    };
    const sub = this.ctx.bus.subscribe(
      `build.started.${request.builderid}`,
      async (m) => {
        if (m.kind !== 'build.started' || m.payload.buildrequestid !== this.buildrequestid) return;
        await report(await this.ctx.data.builds.get(m.payload.buildid)).catch(() => {});
      },
      { name: `try:request:${this.buildrequestid}` },
    );
    const forget = subscriber.notifyOnDisconnect(() => sub.unsubscribe());
    this.#unsubscribe = () => {
      sub.unsubscribe();
      forget();
    };
    for (const build of await this.ctx.data.builds.forRequest(this.buildrequestid)) await report(build);
  }

  remote_unsubscribe(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }
}

export interface RemoteStepSummary {
  readonly number: number;
  readonly name: string;
  /** Buildbot's result code; null while the step runs or if it never ran. */
  readonly results: number | null;
  readonly state: string;
  readonly logs: string[];
}

export class RemoteBuild extends Referenceable {
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly ctx: TryStatusContext,
    readonly buildid: number,
    readonly builderName: string,
  ) {
    super();
  }

  /** Tells `subscriber` as steps start and finish (stepStarted, stepFinished); `interval` is unused. */
  remote_subscribe(subscriber: RemoteReference, _interval?: unknown): void {
    this.remote_unsubscribe();
    const started = this.ctx.bus.subscribe(
      `step.started.${this.buildid}`,
      async (m) => {
        if (m.kind !== 'step.started') return;
        await subscriber
          .callRemote('stepStarted', this.builderName, this, m.payload.name, null)
          .catch(() => {});
      },
      { name: `try:build:${this.buildid}:started` },
    );
    const finished = this.ctx.bus.subscribe(
      `step.finished.${this.buildid}`,
      async (m) => {
        if (m.kind !== 'step.finished') return;
        const step = await this.ctx.data.steps.get(m.payload.stepid);
        await subscriber
          .callRemote('stepFinished', this.builderName, this, step?.name ?? '', null, m.payload.results)
          .catch(() => {});
      },
      { name: `try:build:${this.buildid}:finished` },
    );
    const forget = subscriber.notifyOnDisconnect(() => this.remote_unsubscribe());
    this.#unsubscribe = () => {
      started.unsubscribe();
      finished.unsubscribe();
      forget();
    };
  }

  remote_unsubscribe(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  /** Resolves with this build once it has finished (at once if it already has). */
  async remote_waitUntilFinished(): Promise<RemoteBuild> {
    await new Promise<void>((resolve, reject) => {
      const sub = this.ctx.bus.subscribe(
        `build.finished.*.${this.buildid}`,
        () => {
          sub.unsubscribe();
          resolve();
        },
        { name: `try:build:${this.buildid}:wait` },
      );
      // Subscribed first, then looked: a build that ends in between is not missed.
      this.ctx.data.builds.get(this.buildid).then((b) => {
        if (b?.completeAt !== null) {
          sub.unsubscribe();
          resolve();
        }
      }, reject);
    });
    return this;
  }

  async remote_getResults(): Promise<number | null> {
    return (await this.ctx.data.builds.get(this.buildid))?.results ?? null;
  }

  async remote_getText(): Promise<string[]> {
    return [(await this.ctx.data.builds.get(this.buildid))?.stateString ?? ''];
  }

  /** Lathe's: every step with its result and the names of its logs. */
  async remote_getSteps(): Promise<RemoteStepSummary[]> {
    const steps = await this.ctx.data.steps.forBuild(this.buildid);
    const out: RemoteStepSummary[] = [];
    for (const s of steps) {
      const logs = await this.ctx.data.logs.forStep(s.id);
      out.push({
        number: s.number,
        name: s.name,
        results: s.results,
        state: s.stateString,
        logs: logs.map((l) => l.name),
      });
    }
    return out;
  }

  /**
   * Lathe's: the last `lines` lines of one log of a step of this build, stream prefixes
   * removed; for stdio logs, output only (the worker's headers, such as the exit code line
   * that ends every command, are not what failed).
   */
  async remote_getLogTail(stepNumber: unknown, logName: unknown, lines: unknown): Promise<string[]> {
    if (typeof stepNumber !== 'number' || typeof logName !== 'string' || typeof lines !== 'number')
      throw new TypeError('getLogTail takes a step number, a log name and a line count');
    const step = (await this.ctx.data.steps.forBuild(this.buildid)).find((s) => s.number === stepNumber);
    const log = step && (await this.ctx.data.logs.forStep(step.id)).find((l) => l.name === logName);
    if (!log) return [];
    const count = Math.max(0, Math.min(MAX_TAIL_LINES, Math.floor(lines)));
    const last = log.numLines - 1;
    if (log.type !== 's') return this.ctx.data.logs.lines(log.id, Math.max(0, last - count + 1), last);
    // A few header lines end a command's output; read enough to skip them.
    const window = await this.ctx.data.logs.stdioLines(
      log.id,
      Math.max(0, last - count - HEADER_SLACK + 1),
      last,
    );
    const output = window.filter((l) => l.stream !== 'h').map((l) => l.text);
    return count === 0 ? [] : output.slice(-count);
  }
}
