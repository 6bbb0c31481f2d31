// The Git source step, doing on the worker what Buildbot 3.7's Git step does with its `git`
// shell commands in the default modes:
//   git --version; stat .buildbot-patched (a patched tree is cleaned first); listdir workdir
//   incremental: no .git → clone; other files → rmdir + clone; else fetch + checkout
//   full/fresh:  git clean -f -f -d -x then fetch (clobber + clone if clean fails)
//   full/clean:  git clean -f -f -d then fetch;  full/clobber: rmdir + clone
//   clone:  git clone [--branch B] URL . --progress [; git checkout -f REV]
//   fetch:  [git cat-file -e REV →] git fetch -f -t URL B --progress; git checkout -f REV|FETCH_HEAD
//           [; git checkout -B B]
//   then git rev-parse HEAD → got_revision
// The branch and revision come from the build's source stamp (properties `branch`,
// `revision`), else from the step's `branch`.
import type { StepContext } from '../config/steps.js';
import { FAILURE, type Result, SUCCESS } from '../results.js';
import { type EnvValue, type StepValue, shellArgs, stepValue } from './args.js';
import { Step, type StepOptions } from './base.js';

export interface GitOptions extends StepOptions {
  /** May carry a secret: `interpolate('https://%(secret:token)s@host/repo.git')`; logs show it masked. */
  readonly repourl: StepValue<string>;
  /** Default `HEAD`: the repository's default branch. */
  readonly branch?: StepValue<string>;
  readonly mode?: 'incremental' | 'full';
  /** For mode `full`; default `fresh`. */
  readonly method?: 'fresh' | 'clean' | 'clobber';
  readonly workdir?: string;
  readonly env?: Readonly<Record<string, EnvValue>>;
  readonly timeout?: number;
  readonly logEnviron?: boolean;
  readonly progress?: boolean;
  /** Ignore the source stamp's revision and build the branch tip. */
  readonly alwaysUseLatest?: boolean;
}

/** The options with renderables rendered for this build. */
interface ResolvedGitOptions extends Omit<GitOptions, 'repourl' | 'branch'> {
  readonly repourl: string;
  readonly branch?: string;
}

const GIT_HASH_LENGTH = 40;

/** A git command failed; the step ends FAILURE (Buildbot's BuildStepFailed). */
class GitStepFailed extends Error {
  constructor(readonly command: readonly string[]) {
    super(`git ${command.join(' ')} failed`);
  }
}

export class Git extends Step<GitOptions> {
  constructor(options: GitOptions) {
    // Buildbot's source steps halt the build on failure: nothing to build without sources.
    super({ haltOnFailure: true, ...options }, 'git');
  }

  async run(ctx: StepContext): Promise<Result> {
    const { branch, repourl, ...rest } = this.options;
    const resolved: ResolvedGitOptions = {
      ...rest,
      repourl: await stepValue(repourl, ctx),
      ...(branch === undefined ? {} : { branch: await stepValue(branch, ctx) }),
    };
    const run = new GitRun(resolved, ctx);
    try {
      await run.checkout();
      return SUCCESS;
    } catch (err) {
      if (err instanceof GitStepFailed) return FAILURE;
      throw err;
    }
  }
}

class GitRun {
  readonly workdir: string;
  readonly branch: string;
  readonly revision: string | null;

  constructor(
    readonly o: ResolvedGitOptions,
    readonly ctx: StepContext,
  ) {
    this.workdir = o.workdir ?? 'build';
    const branch = ctx.getProperty('branch');
    const revision = ctx.getProperty('revision');
    this.branch = typeof branch === 'string' && branch !== '' ? branch : (o.branch ?? 'HEAD');
    this.revision = !o.alwaysUseLatest && typeof revision === 'string' && revision !== '' ? revision : null;
  }

  async checkout(): Promise<void> {
    const version = await this.git(['--version'], { collect: true, check: false });
    if (version.rc !== 0) throw new GitStepFailed(['--version']);
    if (await this.exists(`${this.workdir}/.buildbot-patched`))
      await this.git(['clean', '-f', '-f', '-d', '-x']);
    const mode = this.o.mode ?? 'incremental';
    if (mode === 'full' && this.o.method === 'clobber') return this.clobberAndClone();
    const action = await this.updatable();
    if (action === 'clobber') return this.clobberAndClone();
    if (action === 'clone') {
      await this.clone();
      return this.finish();
    }
    if (mode === 'full') {
      const method = this.o.method ?? 'fresh';
      if (method === 'clean') await this.git(['clean', '-f', '-f', '-d']);
      else {
        const clean = await this.git(['clean', '-f', '-f', '-d', '-x'], { check: false });
        if (clean.rc !== 0) return this.clobberAndClone();
      }
    }
    await this.fetch();
    await this.finish();
  }

  async clobberAndClone(): Promise<void> {
    const rm = await this.ctx.runCommand({
      name: 'rmdir',
      args: { dir: this.workdir, logEnviron: this.o.logEnviron ?? true, timeout: this.o.timeout ?? 1200 },
      logName: 'stdio',
    });
    if (rm.rc !== 0) throw new GitStepFailed(['(rmdir)', this.workdir]);
    await this.clone();
    await this.finish();
  }

  async clone(): Promise<void> {
    const command = ['clone'];
    if (this.branch !== 'HEAD')
      command.push(...(this.branch.startsWith('refs/') ? ['--no-checkout'] : ['--branch', this.branch]));
    command.push(this.o.repourl, '.');
    if (this.o.progress ?? true) command.push('--progress');
    await this.git(command);
    // A refs/… branch cannot be cloned directly: fetch it into the fresh clone.
    if (this.branch.startsWith('refs/')) await this.fetch();
    else if (this.revision) await this.git(['checkout', '-f', this.revision]);
  }

  async fetch(): Promise<void> {
    let needFetch = true;
    if (this.revision) {
      const known = await this.git(['cat-file', '-e', this.revision], { check: false });
      needFetch = known.rc !== 0;
    }
    if (needFetch) {
      const command = ['fetch', '-f', '-t', this.o.repourl, this.branch];
      if (this.o.progress ?? true) command.push('--progress');
      await this.git(command);
    }
    await this.git(['checkout', '-f', this.revision ?? 'FETCH_HEAD']);
    if (this.branch !== 'HEAD') await this.git(['checkout', '-B', this.branch], { check: false });
  }

  async finish(): Promise<void> {
    const head = await this.git(['rev-parse', 'HEAD'], { collect: true });
    const revision = head.stdout.trim();
    if (revision.length !== GIT_HASH_LENGTH) throw new GitStepFailed(['rev-parse', 'HEAD']);
    this.ctx.setProperty('got_revision', revision, 'Git');
  }

  async updatable(): Promise<'update' | 'clone' | 'clobber'> {
    const out = await this.ctx.runCommand({ name: 'listdir', args: { dir: this.workdir }, logName: 'stdio' });
    const files = out.updates.files?.[0];
    if (!Array.isArray(files)) return 'clone';
    if (files.includes('.git')) return 'update';
    return files.length > 0 ? 'clobber' : 'clone';
  }

  async exists(path: string): Promise<boolean> {
    const out = await this.ctx.runCommand({
      name: 'stat',
      args: { file: path, logEnviron: false },
      logName: 'stdio',
    });
    return out.rc === 0;
  }

  async git(
    args: readonly string[],
    opts: { collect?: boolean; check?: boolean } = {},
  ): Promise<{ rc: number | null; stdout: string }> {
    const out = await this.ctx.runCommand({
      name: 'shell',
      // As Buildbot's Git: SIGTERM first, so an interrupted git can remove its lock files.
      args: shellArgs({
        workdir: this.workdir,
        command: ['git', ...args],
        env: this.o.env ?? {},
        wantStdout: 1,
        wantStderr: 1,
        timeout: this.o.timeout ?? 1200,
        sigtermTime: 1,
        logEnviron: this.o.logEnviron ?? true,
        interruptSignal: null,
      }),
      logName: 'stdio',
      collectStdout: opts.collect ?? false,
    });
    if ((opts.check ?? true) && out.rc !== 0) throw new GitStepFailed(args);
    return { rc: out.rc, stdout: out.stdout ?? '' };
  }
}

/** `git({ repourl })` — a Git source step. */
export function git(options: GitOptions): Git {
  return new Git(options);
}
