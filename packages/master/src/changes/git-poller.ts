// A change source that polls a git repository's branches. The repository (a path, a
// file:// URL or any URL git can fetch) is mirrored into a bare repository under the master
// directory, fetched when a poll finds the remote's heads moved; commits are read from the
// mirror. The first poll only learns where each branch is (no flood of old commits); later
// polls report each new commit of a watched branch, oldest first, and a new branch's head
// commit. A force-push reports only the commits the old head did not have; an unreachable
// remote is logged and retried at the next interval. What was seen lives in memory: after a
// restart the first poll starts afresh.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { ChangeInput, ChangeSource, ChangeSourceContext } from './change-source.js';

const run = promisify(execFile);

/** A branch name, a pattern its whole name must match, … */
export type BranchPattern = string | RegExp;
/** … a list of those, a single pattern, a function of the name, or true for all branches. */
export type BranchSelection = readonly BranchPattern[] | RegExp | ((branch: string) => boolean) | true;

export interface GitPollerOptions {
  /** An absolute path, a file:// URL, or another URL git can fetch (credentials never logged). */
  readonly repourl: string;
  /** Which branches to watch; default ['master']. */
  readonly branches?: BranchSelection;
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
  readonly branches: BranchSelection;
  readonly pollInterval: number;
  readonly project: string;
  readonly category: string | null;
}

/** The text with the `user:password@` of any URL in it replaced, fit for logs and names. */
export function redactUrl(url: string): string {
  return url.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}

export function gitPollerConfig(o: GitPollerOptions): GitPollerConfig {
  return {
    type: 'git',
    name: o.name ?? `GitPoller:${redactUrl(o.repourl)}`,
    repourl: o.repourl,
    branches: o.branches ?? ['master'],
    pollInterval: o.pollInterval ?? 600,
    project: o.project ?? '',
    category: o.category ?? null,
  };
}

/** Whether `branch` is one the selection watches. */
export function branchSelected(selection: BranchSelection, branch: string): boolean {
  if (selection === true) return true;
  if (typeof selection === 'function') return selection(branch);
  const patterns: readonly BranchPattern[] = selection instanceof RegExp ? [selection] : selection;
  return patterns.some((p) => {
    if (typeof p === 'string') return p === branch;
    const m = p.exec(branch);
    p.lastIndex = 0;
    return m !== null && m.index === 0 && m[0].length === branch.length;
  });
}

/** Where a poller keeps its mirror: one bare repository per poller, under the master directory. */
export function mirrorDir(basedir: string, config: GitPollerConfig): string {
  const id = createHash('sha256').update(`${config.name}\0${config.repourl}`).digest('hex').slice(0, 16);
  return join(basedir, 'gitpoller-work', `${id}.git`);
}

export class GitCommandError extends Error {
  override readonly name = 'GitCommandError';
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`git ${args.map(redactUrl).join(' ')} failed: ${redactUrl(stderr.trim())}`);
  }
}

/** Branch → head from `git ls-remote --heads` lines. */
function parseRefs(out: string): Map<string, string> {
  const heads = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]+)\s+refs\/heads\/(.+)$/.exec(line);
    if (m) heads.set(m[2]!, m[1]!);
  }
  return heads;
}

function sameHeads(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string> | null): boolean {
  if (b === null || a.size !== b.size) return false;
  for (const [branch, sha] of a) if (b.get(branch) !== sha) return false;
  return true;
}
// Fields of one commit, NUL-separated; records end with a byte git never emits in them.
const FORMAT = '%H%x00%an <%ae>%x00%cn <%ce>%x00%ct%x00%B%x00%x1e';

export class GitPoller implements ChangeSource {
  /** Last seen head per branch; null until the first successful poll. */
  #heads: Map<string, string> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;
  #stopped = false;
  #mirrorReady = false;
  /** Every remote branch's head as of the mirror's last fetch: an unchanged remote is not fetched. */
  #fetched: Map<string, string> | null = null;
  readonly #mirror: string;

  constructor(
    readonly config: GitPollerConfig,
    private readonly ctx: ChangeSourceContext,
  ) {
    this.#mirror = mirrorDir(ctx.basedir, config);
  }

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
      const now = () => Math.floor(Date.now() / 1000);
      this.#polling = this.poll()
        .then(() => this.ctx.activity?.(this.name, { polledAt: now(), error: null }))
        .catch((err) => {
          const message = (err as Error).message;
          this.ctx.log.warn(
            `${this.name}: poll failed (retried in ${this.config.pollInterval} s): ${message}`,
          );
          this.ctx.activity?.(this.name, { polledAt: now(), error: { message, at: now() } });
        })
        .finally(() => {
          this.#polling = null;
          this.#schedule(this.config.pollInterval * 1000);
        });
    }, delayMs);
    this.#timer.unref();
  }

  /**
   * One poll: resolves once every new commit is stored as a change. The very first poll of a
   * repository only notes its heads (no flood of old commits); after a restart the heads
   * stored by the last run take their place, so commits pushed meanwhile are not missed.
   */
  async poll(): Promise<void> {
    const heads = await this.#update();
    const previous = this.#heads ?? (await this.#storedHeads());
    if (previous === null) {
      this.#heads = heads;
      await this.#storeHeads();
      return;
    }
    this.#heads = previous;
    for (const [branch, head] of heads) {
      const old = previous.get(branch);
      if (old === head) continue;
      const revisions = old === undefined ? [head] : await this.#revisionsBetween(old, head);
      for (const revision of revisions) {
        if (this.#stopped) return;
        await this.ctx.addChange(await this.#change(revision, branch));
        this.ctx.activity?.(this.name, { changeAt: Math.floor(Date.now() / 1000) });
      }
      // Only once stored: a failed poll is retried from the old head next time.
      previous.set(branch, head);
      await this.#storeHeads();
    }
    const gone = [...previous.keys()].filter((branch) => !heads.has(branch));
    for (const branch of gone) previous.delete(branch);
    if (gone.length > 0) await this.#storeHeads();
  }

  // Keyed by the repository too: a source pointed at another repository starts afresh.
  get #stateKey(): string {
    return `heads ${this.config.repourl}`;
  }

  async #storedHeads(): Promise<Map<string, string> | null> {
    const stored = await this.ctx.state.get(this.name, this.#stateKey);
    if (stored === null || typeof stored !== 'object') return null;
    const heads = new Map<string, string>();
    for (const [branch, sha] of Object.entries(stored))
      if (typeof sha === 'string' && branchSelected(this.config.branches, branch)) heads.set(branch, sha);
    return heads;
  }

  #storeHeads(): Promise<void> {
    return this.ctx.state.set(this.name, this.#stateKey, Object.fromEntries(this.#heads ?? []));
  }

  async #git(args: readonly string[]): Promise<string> {
    try {
      const { stdout } = await run('git', ['-C', this.#mirror, ...args], {
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
        // Never wait for someone to type a password: fail, log, retry next poll.
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true' },
      });
      return stdout;
    } catch (err) {
      throw new GitCommandError(args, (err as { stderr?: string }).stderr ?? (err as Error).message);
    }
  }

  /**
   * Asks the remote for its branches (cheap) and fetches into the mirror only when one moved;
   * returns the watched branches' heads, all of which the mirror then has.
   */
  async #update(): Promise<Map<string, string>> {
    await this.#ensureMirror();
    const remote = parseRefs(await this.#git(['ls-remote', '--heads', '--', this.config.repourl]));
    if (!sameHeads(remote, this.#fetched)) {
      // Force-pushes included: the mirror's branches become what the remote has.
      await this.#git([
        'fetch',
        '--quiet',
        '--prune',
        '--no-tags',
        '--',
        this.config.repourl,
        '+refs/heads/*:refs/heads/*',
      ]);
      this.#fetched = remote;
    }
    const heads = new Map<string, string>();
    for (const [branch, sha] of remote)
      if (branchSelected(this.config.branches, branch)) heads.set(branch, sha);
    return heads;
  }

  async #ensureMirror(): Promise<void> {
    if (this.#mirrorReady) return;
    if (!existsSync(join(this.#mirror, 'HEAD'))) {
      // Created aside and renamed: a crash never leaves a half-made mirror in place.
      const partial = `${this.#mirror}.partial`;
      await rm(partial, { recursive: true, force: true });
      await mkdir(dirname(partial), { recursive: true });
      await run('git', ['init', '--quiet', '--bare', partial]);
      await rename(partial, this.#mirror);
    }
    this.#mirrorReady = true;
  }

  /** Commits `head` has that `old` had not; after a force-push, those since the fork point. */
  async #revisionsBetween(old: string, head: string): Promise<string[]> {
    let out: string;
    try {
      out = await this.#git(['rev-list', '--reverse', head, '--not', old]);
    } catch (err) {
      // The old head is gone from the mirror (collected after a rewrite): report the head only.
      this.ctx.log.warn(`${this.name}: cannot compare with old head ${old}: ${(err as Error).message}`);
      return [head];
    }
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
      repository: redactUrl(this.config.repourl),
      project: this.config.project,
      category: this.config.category,
      files: files.split('\n').filter((f) => f !== ''),
    };
  }
}
