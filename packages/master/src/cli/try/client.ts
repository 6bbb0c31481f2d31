// The PB side of `lathe try`: logs in to a master's Try_Userpass scheduler, hands in the
// job (the same `try` call `buildbot try --connect=pb` makes), and follows the builds it
// starts through the remote status objects, reporting each finished step and each build's
// result and its failing logs' tails.
import { ConnectError, connect, Referenceable, RemoteError, type RemoteReference, tuple } from '@lathe/pb';
import { SKIPPED, SUCCESS, WARNINGS } from '../../results.js';
import { remoteMessage } from '../control-client.js';

export class TryClientError extends Error {
  override readonly name = 'TryClientError';
}

export interface TryRequest {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly branch: string | null;
  readonly revision: string | null;
  readonly patchLevel: number;
  readonly diff: Buffer;
  readonly repository: string;
  readonly project: string;
  readonly builderNames: readonly string[];
  readonly who: string;
  readonly comment: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

export interface StepReport {
  readonly builder: string;
  readonly step: string;
  readonly results: number;
}

export interface StepSummary {
  readonly number: number;
  readonly name: string;
  readonly results: number | null;
  readonly state: string;
  readonly logs: readonly string[];
}

export interface BuildReport {
  readonly builder: string;
  readonly results: number | null;
  readonly text: string;
  readonly steps: readonly StepSummary[];
  /** For each failed step, its logs' last lines. */
  readonly tails: readonly { step: string; log: string; lines: readonly string[] }[];
}

export interface TryFollowOptions {
  /** Each step as it finishes. */
  onStep?(report: StepReport): void;
  /** How many lines of a failed step's logs to fetch. */
  readonly tailLines: number;
}

const isBad = (r: number | null) => r !== null && r !== SUCCESS && r !== WARNINGS && r !== SKIPPED;

/** What the master calls back while we follow a request's builds (newbuild, stepStarted, stepFinished). */
class Subscriber extends Referenceable {
  readonly builds: Promise<BuildReport>[] = [];
  #onBuild: (() => void) | null = null;

  constructor(private readonly follow: TryFollowOptions) {
    super();
  }

  /** Resolves once a build has been announced. */
  firstBuild(): Promise<void> {
    if (this.builds.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onBuild = resolve;
    });
  }

  remote_newbuild(build: RemoteReference, builder: string): void {
    this.builds.push(this.#followBuild(build, builder));
    this.#onBuild?.();
  }

  remote_stepStarted(): void {}

  remote_stepFinished(
    builder: string,
    _build: unknown,
    step: string,
    _status: unknown,
    results: number,
  ): void {
    this.follow.onStep?.({ builder, step, results });
  }

  async #followBuild(build: RemoteReference, builder: string): Promise<BuildReport> {
    await build.callRemote('subscribe', this, 20);
    await build.callRemote('waitUntilFinished');
    const results = await build.callRemote<number | null>('getResults');
    const text = (await build.callRemote<string[]>('getText')).join(' ');
    const steps = await build.callRemote<StepSummary[]>('getSteps');
    const tails: { step: string; log: string; lines: string[] }[] = [];
    for (const s of steps.filter((s) => isBad(s.results)))
      for (const log of s.logs)
        tails.push({
          step: s.name,
          log,
          lines: await build.callRemote<string[]>('getLogTail', s.number, log, this.follow.tailLines),
        });
    return { builder, results, text, steps, tails };
  }
}

export interface TryOutcome {
  /** Null when not waiting. */
  readonly builds: readonly BuildReport[] | null;
  readonly builders: readonly string[];
}

/** Sends the job and, with `follow`, resolves once every build it started has finished. */
export async function sendTry(
  request: TryRequest,
  follow: TryFollowOptions | null,
  onAccepted: (builders: readonly string[]) => void = () => {},
): Promise<TryOutcome> {
  const where = `${request.host}:${request.port}`;
  let connection: Awaited<ReturnType<typeof connect>>;
  try {
    connection = await connect({
      host: request.host,
      port: request.port,
      timeoutMs: request.timeoutMs ?? 30_000,
    });
  } catch (err) {
    if (err instanceof ConnectError)
      throw new TryClientError(`no master answers on ${where} (${err.message}); is it running?`);
    throw err;
  }
  try {
    let perspective: RemoteReference;
    try {
      perspective = await connection.login(request.user, request.password);
    } catch (err) {
      if (err instanceof RemoteError && err.check('twisted.cred.error.UnauthorizedLogin'))
        throw new TryClientError(
          `the master on ${where} refused the credentials of try user ${JSON.stringify(request.user)}`,
        );
      throw err;
    }
    let status: RemoteReference | null;
    try {
      status = await perspective.callRemote<RemoteReference | null>(
        'try',
        request.branch,
        request.revision,
        tuple<unknown>(request.patchLevel, request.diff),
        request.repository,
        request.project,
        [...request.builderNames],
        request.who,
        request.comment,
        { ...request.properties },
      );
    } catch (err) {
      throw new TryClientError(`the master did not take the try job: ${remoteMessage(err)}`);
    }
    if (status === null) {
      const allowed = await perspective.callRemote<string[]>('getAvailableBuilderNames').catch(() => []);
      throw new TryClientError(
        `the try scheduler built nothing: builders ${JSON.stringify(request.builderNames)} are not all allowed (allowed: ${allowed.join(', ') || 'none'})`,
      );
    }
    const requests = await status.callRemote<[string, RemoteReference][]>('getBuildRequests');
    const builders = requests.map(([name]) => name);
    onAccepted(builders);
    if (!follow) return { builds: null, builders };
    const reports = await Promise.all(
      requests.map(async ([, request]) => {
        // One subscriber per request: each follows the first build of its request.
        const subscriber = new Subscriber(follow);
        await request.callRemote('subscribe', subscriber);
        await subscriber.firstBuild();
        const report = await subscriber.builds[0]!;
        await request.callRemote('unsubscribe', subscriber).catch(() => {});
        return report;
      }),
    );
    return { builds: reports, builders };
  } finally {
    connection.close();
  }
}
