// A change source that polls a local git repository's branches. The first poll only
// learns where each branch is (no flood of old commits); later polls report each new
// commit of a watched branch, oldest first, and a new branch's head commit. What was seen
// lives in memory: after a restart the first poll starts afresh.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ChangeInput, ChangeSource, ChangeSourceContext } from './change-source.js';

const run = promisify(execFile);

export interface GitPollerOptions {
  /** A local repository (a path); remote URLs are planned. */
  readonly repourl: string;
  /** Branch names to watch, or true for all; default ['master']. */
  readonly branches?: readonly string[] | true;
  /** Seconds between polls; default 600, as in Buildbot. */
  readonly pollInterval?: number;
  readonly project?: string;
  readonly category?: string;
  /** Default `GitPoller:<repourl>`. */
  readonly name?: string;
}

export interface GitPollerConfig {
  readonly type: 'git';
  readonly name: string;
  readonly repourl: string;
  readonly branches: readonly string[] | true;
  readonly pollInterval: number;
  readonly project: string;
  readonly category: string | null;
}

export function gitPollerConfig(o: GitPollerOptions): GitPollerConfig {
  return {
    type: 'git',
    name: o.name ?? `GitPoller:${o.repourl}`,
    repourl: o.repourl,
    branches: o.branches ?? ['master'],
    pollInterval: o.pollInterval ?? 600,
    project: o.project ?? '',
    category: o.category ?? null,
  };
}

export class GitCommandError extends Error {
  override readonly name = 'GitCommandError';
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed: ${stderr.trim()}`);
  }
}

const HEADS = 'refs/heads/';
// Fields of one commit, NUL-separated; records end with a byte git never emits in them.
const FORMAT = '%H%x00%an <%ae>%x00%cn <%ce>%x00%ct%x00%B%x00%x1e';

export class GitPoller implements ChangeSource {
  /** Last seen head per branch; null until the first poll. */
  #heads: Map<string, string> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;
  #stopped = false;

  constructor(
    readonly config: GitPollerConfig,
    private readonly ctx: ChangeSourceContext,
  ) {}

  get name(): string {
    return this.config.name;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#polling;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#polling = this.poll()
        .catch((err) => this.ctx.log.warn(`${this.name}: poll failed: ${(err as Error).message}`))
        .finally(() => {
          this.#polling = null;
          this.#schedule(this.config.pollInterval * 1000);
        });
    }, delayMs);
    this.#timer.unref();
  }

  /** One poll: resolves once every new commit is stored as a change. */
  async poll(): Promise<void> {
    const heads = await this.#branchHeads();
    const previous = this.#heads;
    if (previous === null) {
      this.#heads = heads;
      return;
    }
    for (const [branch, head] of heads) {
      const old = previous.get(branch);
      if (old === head) continue;
      const revisions = old === undefined ? [head] : await this.#revisionsBetween(old, head);
      for (const revision of revisions) {
        if (this.#stopped) return;
        await this.ctx.addChange(await this.#change(revision, branch));
      }
      // Only once stored: a failed poll is retried from the old head next time.
      previous.set(branch, head);
    }
    for (const branch of [...previous.keys()]) if (!heads.has(branch)) previous.delete(branch);
  }

  async #git(args: readonly string[]): Promise<string> {
    try {
      const { stdout } = await run('git', ['-C', this.config.repourl, ...args], {
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
      });
      return stdout;
    } catch (err) {
      throw new GitCommandError(args, (err as { stderr?: string }).stderr ?? (err as Error).message);
    }
  }

  async #branchHeads(): Promise<Map<string, string>> {
    const out = await this.#git(['for-each-ref', '--format=%(objectname) %(refname)', HEADS]);
    const wanted = this.config.branches;
    const heads = new Map<string, string>();
    for (const line of out.split('\n')) {
      const space = line.indexOf(' ');
      if (space < 0) continue;
      const branch = line.slice(space + 1).slice(HEADS.length);
      if (wanted === true || wanted.includes(branch)) heads.set(branch, line.slice(0, space));
    }
    return heads;
  }

  async #revisionsBetween(old: string, head: string): Promise<string[]> {
    const out = await this.#git(['rev-list', '--reverse', `${old}..${head}`]);
    return out.split('\n').filter((l) => l !== '');
  }

  async #change(revision: string, branch: string): Promise<ChangeInput> {
    const meta = await this.#git(['show', '-s', `--format=${FORMAT}`, revision]);
    const [, author = '', committer = '', time = '0', comments = ''] = meta.split('\x1e')[0]!.split('\0');
    const files = await this.#git(['show', '--no-renames', '--format=', '--name-only', revision]);
    return {
      author,
      committer,
      comments: comments.trimEnd(),
      revision,
      branch,
      when: Number(time),
      repository: this.config.repourl,
      project: this.config.project,
      category: this.config.category,
      files: files.split('\n').filter((f) => f !== ''),
    };
  }
}
