// Buildbot's Try_Userpass: users on the worker port that `buildbot try --connect=pb` (and
// `lathe try`) log in as. Their perspective takes
//   try(branch, revision, (patchlevel, diff), repository, project, builderNames, who, comment, properties)
// and answers with a RemoteBuildSetStatus to follow the builds, or None when the job asks
// for builders this scheduler does not allow; getAvailableBuilderNames lists the allowed ones.
// Only the worker port is served (Buildbot's separate `port` is planned).
import { Avatar, PBError, PyTuple } from '@lathe/pb';
import { pbText } from '../../changes/pb-change-dict.js';
import type { ReconfigurableService } from '../../service.js';
import { SchedulerKindChangedError } from '../errors.js';
import type { Scheduler } from '../scheduler.js';
import type { ResolvedTryUserpassConfig } from './config.js';
import { addTryBuildset, type TryJob, type TrySchedulerContext } from './job.js';
import { RemoteBuildSetStatus } from './remote-status.js';

/** The largest patch taken over PB; a try job is stored whole. */
const MAX_PATCH_BYTES = 10 * 1024 * 1024;
const MAX_TEXT = 64 * 1024;

export class BadTryRequestError extends PBError {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`bad try request: ${field} ${problem}`);
  }
}

/** Text arrives as str or bytes (Python 3's tryclient sends the branch as bytes). */
function text(value: unknown, field: string): string {
  return pbText(value, MAX_TEXT, (problem) => new BadTryRequestError(field, problem)) ?? '';
}

function patchOf(value: unknown): { level: number; body: Buffer } {
  if (!(value instanceof PyTuple || Array.isArray(value)) || value.length < 2)
    throw new BadTryRequestError('patch', 'must be a (patchlevel, diff) pair');
  const [level, body] = value as unknown[];
  if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level > 100)
    throw new BadTryRequestError('patch', 'level must be a small non-negative integer');
  // An empty diff arrives as None ("nothing to try"): the base revision is built as is.
  const bytes =
    body === null || body === undefined
      ? Buffer.alloc(0)
      : typeof body === 'string'
        ? Buffer.from(body, 'utf8')
        : body instanceof Uint8Array
          ? Buffer.from(body)
          : undefined;
  if (!bytes) throw new BadTryRequestError('patch', 'diff must be text or bytes');
  if (bytes.length > MAX_PATCH_BYTES)
    throw new BadTryRequestError('patch', `is larger than ${MAX_PATCH_BYTES} bytes`);
  return { level, body: bytes };
}

function properties(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof Map)
    throw new BadTryRequestError('properties', 'must be a dictionary with text keys');
  const out = value as Record<string, unknown>;
  const json = JSON.stringify(out);
  if (json === undefined || json.length > MAX_TEXT)
    throw new BadTryRequestError('properties', 'cannot be stored');
  return out;
}

class TryPerspective extends Avatar {
  constructor(
    private readonly scheduler: TryUserpassScheduler,
    private readonly username: string,
  ) {
    super();
  }

  async perspective_try(
    branch: unknown,
    revision: unknown,
    patch: unknown,
    repository: unknown,
    project: unknown,
    builderNames: unknown,
    who?: unknown,
    comment?: unknown,
    props?: unknown,
  ): Promise<RemoteBuildSetStatus | null> {
    const builders = builderNames ?? [];
    if (!Array.isArray(builders)) throw new BadTryRequestError('builderNames', 'must be a list');
    const { level, body } = patchOf(patch);
    const job: TryJob = {
      jobid: null,
      branch: text(branch, 'branch') || null,
      baserev: text(revision, 'revision') || null,
      patchLevel: level,
      patchBody: body,
      repository: text(repository, 'repository'),
      project: text(project, 'project'),
      who: text(who, 'who'),
      comment: text(comment, 'comment'),
      builderNames: builders.map((b, i) => text(b, `builderNames[${i}]`)),
      properties: properties(props),
    };
    let reason = "'try' job";
    if (job.who) reason += ` by user ${job.who}`;
    if (job.comment) reason += ` (${job.comment})`;
    const added = await this.scheduler.addJob(job, reason, this.username);
    return added && new RemoteBuildSetStatus(this.scheduler.ctx, added.requests);
  }

  perspective_getAvailableBuilderNames(): string[] {
    return [...this.scheduler.config.builderNames];
  }
}

export class TryUserpassScheduler implements Scheduler, ReconfigurableService<ResolvedTryUserpassConfig> {
  #config: ResolvedTryUserpassConfig;
  #unregister: (() => void)[] = [];

  constructor(
    config: ResolvedTryUserpassConfig,
    readonly ctx: TrySchedulerContext,
  ) {
    this.#config = config;
  }

  get name(): string {
    return this.#config.name;
  }

  get config(): ResolvedTryUserpassConfig {
    return this.#config;
  }

  async reconfigure(config: ResolvedTryUserpassConfig): Promise<void> {
    const kind = (config as { kind: string }).kind;
    if (kind !== 'Try_Userpass') throw new SchedulerKindChangedError(this.name, 'Try_Userpass', kind);
    this.#unregisterAll();
    this.#config = config;
    this.#registerAll();
  }

  async start(): Promise<void> {
    this.#registerAll();
  }

  async stop(): Promise<void> {
    this.#unregisterAll();
  }

  addJob(job: TryJob, reason: string, username: string) {
    this.ctx.log.info(`scheduler ${this.name}: user ${JSON.stringify(username)} asks for a try build`);
    return addTryBuildset(this.ctx, this.#config, job, reason);
  }

  #registerAll(): void {
    try {
      for (const [user, password] of this.#config.userpass)
        this.#unregister.push(
          this.ctx.pbUsers.register(user, { password, avatar: () => new TryPerspective(this, user) }),
        );
    } catch (err) {
      this.#unregisterAll();
      throw err;
    }
  }

  #unregisterAll(): void {
    for (const unregister of this.#unregister) unregister();
    this.#unregister = [];
  }
}
