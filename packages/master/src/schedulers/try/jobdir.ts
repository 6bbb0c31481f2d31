// Buildbot's Try_Jobdir: watches a maildir-style job directory. `buildbot tryserver` (run
// over ssh by `buildbot try --connect=ssh`) writes each job into `tmp/` and renames it into
// `new/`, so a file in `new/` is complete. Each is moved to `cur/` before it is read, so a
// job is handled once even across restarts; a bad job is logged and left in `cur/`.
import { type FSWatcher, watch } from 'node:fs';
import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { ReconfigurableService } from '../../service.js';
import { SchedulerKindChangedError } from '../errors.js';
import type { Scheduler } from '../scheduler.js';
import type { ResolvedTryJobdirConfig } from './config.js';
import { addTryBuildset, BadTryJobError, type TrySchedulerContext } from './job.js';
import { parseJobFile } from './job-file.js';

/** A safety net for missed watch events (fs.watch may drop some); Buildbot polls every 10 s too. */
const RESCAN_MS = 10_000;

export class TryJobdirScheduler implements Scheduler, ReconfigurableService<ResolvedTryJobdirConfig> {
  #config: ResolvedTryJobdirConfig;
  #watcher: FSWatcher | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** Scans run one at a time; stop() waits for the last. */
  #work: Promise<void> = Promise.resolve();
  #rescan = false;
  #stopped = true;

  constructor(
    config: ResolvedTryJobdirConfig,
    private readonly ctx: TrySchedulerContext,
  ) {
    this.#config = config;
  }

  get name(): string {
    return this.#config.name;
  }

  get config(): ResolvedTryJobdirConfig {
    return this.#config;
  }

  get jobdir(): string {
    const dir = this.#config.jobdir;
    return isAbsolute(dir) ? dir : join(this.ctx.basedir, dir);
  }

  async reconfigure(config: ResolvedTryJobdirConfig): Promise<void> {
    const kind = (config as { kind: string }).kind;
    if (kind !== 'Try_Jobdir') throw new SchedulerKindChangedError(this.name, 'Try_Jobdir', kind);
    const moved = config.jobdir !== this.#config.jobdir;
    if (moved) await this.stop();
    this.#config = config;
    if (moved) await this.start();
  }

  async start(): Promise<void> {
    this.#stopped = false;
    for (const sub of ['tmp', 'new', 'cur']) await mkdir(join(this.jobdir, sub), { recursive: true });
    this.#watcher = watch(join(this.jobdir, 'new'), () => this.#scan());
    this.#watcher.on('error', (err) =>
      this.ctx.log.warn(`scheduler ${this.name}: watching the job directory: ${err.message}`),
    );
    this.#timer = setInterval(() => this.#scan(), RESCAN_MS);
    this.#timer.unref();
    this.#scan();
    await this.#work;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#work;
  }

  /** Handles every job in `new/`; events during a scan cause one more scan after it. */
  #scan(): void {
    if (this.#stopped) return;
    if (this.#rescan) return;
    this.#rescan = true;
    this.#work = this.#work.then(async () => {
      this.#rescan = false;
      try {
        await this.#handleNewJobs();
      } catch (err) {
        this.ctx.log.warn(
          `scheduler ${this.name}: reading the job directory failed: ${(err as Error).message}`,
        );
      }
    });
  }

  async #handleNewJobs(): Promise<void> {
    const newDir = join(this.jobdir, 'new');
    // Oldest first: names start with the time they were written.
    for (const file of (await readdir(newDir)).sort()) {
      if (this.#stopped) return;
      if (file.startsWith('.')) continue;
      const current = join(this.jobdir, 'cur', file);
      try {
        await rename(join(newDir, file), current);
      } catch (err) {
        // Another master sharing the job directory took it first.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      await this.#handleJob(file, current);
    }
  }

  async #handleJob(file: string, path: string): Promise<void> {
    let job: ReturnType<typeof parseJobFile>;
    try {
      job = parseJobFile(await readFile(path));
    } catch (err) {
      if (!(err instanceof BadTryJobError)) throw err;
      this.ctx.log.warn(`scheduler ${this.name}: bad job file ${JSON.stringify(file)}: ${err.message}`);
      return;
    }
    const reason = `'try' job${job.who ? ` by user ${job.who}` : ''}`;
    await addTryBuildset(this.ctx, this.#config, job, reason);
  }
}
