// A latent worker run as a container through the Docker Engine API (which Podman serves
// too). Each start creates a fresh container from `image` with the worker's connection in
// its environment (LATHE_WORKER_NAME, LATHE_WORKER_PASSWORD, LATHE_MASTER, LATHE_MASTER_HOST,
// LATHE_MASTER_PORT), labels that say whose it is, and AutoRemove; the image's command (or
// `cmd`) must start a worker from those variables. Stopping stops and removes it.
import { DockerEngineClient, type DockerEngineOptions } from './docker-api.js';
import {
  type LatentInstanceContext,
  type LatentStopContext,
  LatentWorker,
  LatentWorkerConfigError,
  type LatentWorkerOptions,
} from './latent-worker.js';

export interface DockerLatentWorkerOptions extends LatentWorkerOptions, DockerEngineOptions {
  readonly image: string;
  /** The container's command, instead of the image's. */
  readonly cmd?: readonly string[];
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra labels; `org.lathe.worker` (the worker's name) is always set. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * The API's HostConfig (NetworkMode, Binds, Ulimits, Memory, …), passed as is; AutoRemove
   * is true unless it says otherwise.
   */
  readonly hostConfig?: Readonly<Record<string, unknown>>;
  /** Whether to pull the image: when the engine lacks it (default), always, or never. */
  readonly pull?: 'missing' | 'always' | 'never';
  /** Seconds the container gets to exit on SIGTERM before it is killed; default 10. */
  readonly stopGrace?: number;
}

export const WORKER_LABEL = 'org.lathe.worker';

/** What start() hands to stop(): the container, and the watch on its exit to end. */
interface RunningContainer {
  readonly id: string;
  readonly unwatch: AbortController;
}

export class DockerLatentWorker extends LatentWorker {
  readonly image: string;
  readonly cmd: readonly string[] | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly hostConfig: Readonly<Record<string, unknown>>;
  readonly pull: 'missing' | 'always' | 'never';
  readonly stopGrace: number;
  readonly engine: DockerEngineOptions;

  constructor(options: DockerLatentWorkerOptions) {
    super(options);
    if (typeof options.image !== 'string' || options.image === '')
      throw new LatentWorkerConfigError(options.name, 'image', 'is required and must be a non-empty string');
    if (options.pull !== undefined && !['missing', 'always', 'never'].includes(options.pull))
      throw new LatentWorkerConfigError(options.name, 'pull', `must be 'missing', 'always' or 'never'`);
    this.image = options.image;
    this.cmd = options.cmd;
    this.env = options.env ?? {};
    this.labels = options.labels ?? {};
    this.hostConfig = options.hostConfig ?? {};
    this.pull = options.pull ?? 'missing';
    this.stopGrace = options.stopGrace ?? 10;
    this.engine = {
      ...(options.socketPath !== undefined && { socketPath: options.socketPath }),
      ...(options.url !== undefined && { url: options.url }),
      ...(options.apiVersion !== undefined && { apiVersion: options.apiVersion }),
    };
  }

  /** The body of the create call, for one instance. */
  containerSpec(ctx: LatentInstanceContext): Record<string, unknown> {
    const env = {
      ...this.env,
      LATHE_WORKER_NAME: ctx.workerName,
      LATHE_WORKER_PASSWORD: ctx.password,
      LATHE_MASTER: ctx.masterAddress,
      LATHE_MASTER_HOST: ctx.masterHost,
      LATHE_MASTER_PORT: String(ctx.masterPort),
    };
    return {
      Image: this.image,
      ...(this.cmd && { Cmd: [...this.cmd] }),
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: { ...this.labels, [WORKER_LABEL]: ctx.workerName },
      HostConfig: { AutoRemove: true, ...this.hostConfig },
    };
  }

  async start(ctx: LatentInstanceContext): Promise<RunningContainer> {
    const engine = new DockerEngineClient(this.engine);
    if (
      this.pull === 'always' ||
      (this.pull === 'missing' && !(await engine.imageExists(this.image, ctx.signal)))
    )
      await engine.pullImage(this.image, ctx.signal);
    const id = await engine.createContainer(this.containerSpec(ctx), undefined, ctx.signal);
    try {
      await engine.startContainer(id, ctx.signal);
    } catch (err) {
      await engine.removeContainer(id).catch(() => {});
      throw err;
    }
    // A container that exits by itself (a wrong command, the worker giving up) ends the instance.
    const unwatch = new AbortController();
    engine.waitContainer(id, unwatch.signal).then(
      (code) => ctx.instanceGone?.(`container ${id.slice(0, 12)} exited with status ${code ?? 'unknown'}`),
      () => {
        // Stopped watching, or the engine went away: stop() cleans up either way.
      },
    );
    return { id, unwatch };
  }

  async stop(ctx: LatentStopContext): Promise<void> {
    const running = ctx.handle as RunningContainer | undefined;
    running?.unwatch.abort();
    const engine = new DockerEngineClient(this.engine);
    // Without a handle (a start abandoned midway, a worker adopted after a master restart)
    // the worker's containers are found by their label.
    const ids = running
      ? [running.id]
      : await engine.containersWithLabel(`${WORKER_LABEL}=${ctx.workerName}`, ctx.signal);
    for (const id of ids) {
      await engine.stopContainer(id, this.stopGrace, ctx.signal);
      await engine.removeContainer(id, ctx.signal);
    }
  }
}

/** A worker the master runs as a container on demand; see DockerLatentWorkerOptions. */
export function dockerLatentWorker(options: DockerLatentWorkerOptions): DockerLatentWorker {
  return new DockerLatentWorker(options);
}
