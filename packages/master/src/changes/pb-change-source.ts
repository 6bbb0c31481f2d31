// Buildbot's PBChangeSource: a user on the worker port that `buildbot sendchange` (or
// `lathe sendchange`) logs in as, and whose perspective takes `addChange(changedict)`.
// The answer is sent only after the change is committed, so an acknowledged change is
// never lost; the answer is None, as in Buildbot (clients must not depend on ids).
import { Avatar } from '@lathe/pb';
import type { ChangeSource, ChangeSourceContext } from './change-source.js';
import { changeFromPB } from './pb-change-dict.js';

export interface PBChangeSourceOptions {
  /** Default 'change', as in Buildbot. */
  readonly user?: string;
  /** Default 'changepw', as in Buildbot. */
  readonly passwd?: string;
  /** Only files under this path belong here; it is removed from their names. */
  readonly prefix?: string;
  /** Default `PBChangeSource:<user>`. */
  readonly name?: string;
}

export interface PBChangeSourceConfig {
  readonly type: 'pb';
  readonly name: string;
  readonly user: string;
  readonly passwd: string;
  readonly prefix: string | null;
}

/** For `changeSources` in master.config.ts. */
export function pbChangeSourceConfig(options: PBChangeSourceOptions = {}): PBChangeSourceConfig {
  const user = options.user ?? 'change';
  return {
    type: 'pb',
    name: options.name ?? `PBChangeSource:${user}`,
    user,
    passwd: options.passwd ?? 'changepw',
    prefix: options.prefix ?? null,
  };
}

class ChangePerspective extends Avatar {
  constructor(
    private readonly source: PBChangeSource,
    private readonly ctx: ChangeSourceContext,
  ) {
    super();
  }

  async perspective_addChange(changedict: unknown): Promise<null> {
    const change = changeFromPB(changedict, this.source.config.prefix);
    const changeid = await this.ctx.addChange(change);
    this.ctx.activity?.(this.source.name, { changeAt: Math.floor(Date.now() / 1000) });
    this.ctx.log.info(
      `${this.source.name}: change ${changeid} by ${JSON.stringify(change.author)}` +
        ` (branch ${JSON.stringify(change.branch)}, revision ${JSON.stringify(change.revision)})`,
    );
    return null;
  }
}

export class PBChangeSource implements ChangeSource {
  #unregister: (() => void) | null = null;

  constructor(
    readonly config: PBChangeSourceConfig,
    private readonly ctx: ChangeSourceContext,
  ) {}

  get name(): string {
    return this.config.name;
  }

  async start(): Promise<void> {
    this.#unregister = this.ctx.pbUsers.register(this.config.user, {
      password: this.config.passwd,
      avatar: () => new ChangePerspective(this, this.ctx),
    });
  }

  async stop(): Promise<void> {
    this.#unregister?.();
    this.#unregister = null;
  }
}
