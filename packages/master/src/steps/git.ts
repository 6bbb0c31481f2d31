// The Git source step, doing on the worker what Buildbot 3.7's Git step does, with the same
// `git` shell commands and the worker commands every buildbot-worker 3.7 has (stat, listdir,
// rmdir, cpdir):
//   git --version; stat .buildbot-patched (a patched tree is cleaned first); listdir workdir
//   incremental:  no .git → clone; other files → rmdir + clone; else fetch + checkout
//                 [+ git submodule sync; git submodule update --init --recursive --force --checkout]
//   full/fresh:   git clean -f -f -d -x then fetch (rmdir + clone if clean fails)
//                 [+ submodule sync/update; git submodule foreach --recursive 'git clean … -x';
//                  git clean again]
//   full/clean:   the same without -x (ignored files stay)
//   full/clobber: rmdir + clone [--depth N when shallow]
//   full/copy:    rmdir workdir; incremental in `source`; cpdir source → workdir
//   clone:  git clone [--branch B] [--depth N] [--reference R] [--origin O] URL . --progress
//           [; git checkout -f REV] [; git submodule update --init --recursive [--remote]]
//   fetch:  [git cat-file -e REV →] git fetch -f -t URL B --progress; git checkout -f REV|FETCH_HEAD
//           [; git checkout -B B]
//   a try job's patch: downloadFile .buildbot-diff and .buildbot-patched; git update-index
//           --refresh; git apply --index -p N .buildbot-diff; rmdir .buildbot-diff
//   then git rev-parse HEAD → got_revision [; git describe … HEAD → commit-description]
// A failed fetch fails the step unless `retryFetch` (fetch once more) or `clobberOnFailure`
// (rmdir + clone; also after a failed clone); `retry: [delay, repeats]` re-clones a failed clone.
// The branch and revision come from the build's source stamp (properties `branch`,
// `revision`), else from the step's `branch`.
//
// `config` becomes `git -c name=value` on every command, and git hands it on to the commands
// it runs itself (the clones of `submodule update`). Git 2.38.1 and later (and the security
// releases of older lines) refuse file:// submodules unless `protocol.file.allow` is
// `always`; set it for this step only rather than in the worker's global git config:
//   git({ repourl, submodules: true, config: { 'protocol.file.allow': 'always' } })
//   git({ repourl, mode: 'full', method: 'clobber', shallow: true })  // clone --depth 1
//   git({ repourl, mode: 'full', method: 'copy', getDescription: { tags: true } })
// A shallow clone of a plain local path copies the whole history (git ignores --depth for
// local clones); a file:// URL makes it shallow.

import type { SourceStampPatch } from '../data/sourcestamps.js';
import { FAILURE, type Result, SUCCESS } from '../results.js';
import { type EnvValue, type StepValue, shellArgs, stepValue } from './args.js';
import { Step, type StepOptions } from './base.js';
import type { StepContext } from './contract.js';
import { StepOptionError, stepNumber, stepString } from './option-values.js';
import { StringFileReader } from './transfer/remote-files.js';

/** `git describe` flags for `getDescription`, named as in Buildbot. */
export interface GitDescribeOptions {
  readonly all?: boolean;
  readonly always?: boolean;
  readonly contains?: boolean;
  readonly debug?: boolean;
  readonly long?: boolean;
  readonly 'exact-match'?: boolean;
  readonly tags?: boolean;
  readonly match?: string;
  readonly abbrev?: number;
  readonly candidates?: number;
  /** `true` or '' → `--dirty`; a string → `--dirty=<mark>` (and no `HEAD`: git refuses both). */
  readonly dirty?: boolean | string;
}

export interface GitOptions extends StepOptions {
  /** May carry a secret: `interpolate('https://%(secret:token)s@host/repo.git')`; logs show it masked. */
  readonly repourl: StepValue<string>;
  /** Default `HEAD`: the repository's default branch. */
  readonly branch?: StepValue<string>;
  readonly mode?: 'incremental' | 'full';
  /** For mode `full`; default `fresh`. `copy` keeps a checkout in `source` and copies it. */
  readonly method?: 'fresh' | 'clean' | 'clobber' | 'copy';
  readonly workdir?: StepValue<string>;
  readonly env?: StepValue<Readonly<Record<string, EnvValue>>>;
  /** Seconds a git command may be silent before it is killed; default 1200. */
  readonly timeout?: StepValue<number>;
  readonly logEnviron?: boolean;
  readonly progress?: boolean;
  /** Ignore the source stamp's revision and build the branch tip. */
  readonly alwaysUseLatest?: boolean;
  /** Initialise and update submodules, recursively, and clean them with the tree. */
  readonly submodules?: boolean;
  /** With `submodules`: each submodule at its remote branch's tip (`--remote`). */
  readonly remoteSubmodules?: boolean;
  /** `true` clones with `--depth 1`, a number with that depth; only mode `full`, method `clobber`. */
  readonly shallow?: boolean | number;
  /** A local repository on the worker to borrow objects from (`clone --reference`). */
  readonly reference?: StepValue<string>;
  /** The remote's name in the clone (`clone --origin`). */
  readonly origin?: StepValue<string>;
  /** A failed fetch is tried once more before the step fails. */
  readonly retryFetch?: boolean;
  /** A failed fetch or clone removes the directory and clones afresh before the step fails. */
  readonly clobberOnFailure?: boolean;
  /** A failed clone is removed and cloned again after `delay` seconds, up to `repeats` times. */
  readonly retry?: readonly [delay: number, repeats: number];
  /** Sets `commit-description` from `git describe HEAD` (with these flags); a failure is ignored. */
  readonly getDescription?: boolean | GitDescribeOptions;
  /** `git -c name=value` for every git command, e.g. `{ 'protocol.file.allow': 'always' }`. */
  readonly config?: Readonly<Record<string, string>>;
}

/** The options with renderables rendered for this build. */
interface ResolvedGitOptions
  extends Omit<GitOptions, 'repourl' | 'branch' | 'reference' | 'origin' | 'workdir' | 'env' | 'timeout'> {
  readonly repourl: string;
  readonly workdir?: string;
  readonly env?: Readonly<Record<string, EnvValue>>;
  readonly timeout?: number;
  readonly branch?: string;
  readonly reference?: string;
  readonly origin?: string;
}

const GIT_HASH_LENGTH = 40;
/** Where method `copy` keeps its checkout, as Buildbot's. */
const COPY_SOURCE_DIR = 'source';
const CLEAN = ['clean', '-f', '-f', '-d'];
/** Left in a patched tree so that the next build cleans it (Buildbot's name). */
const PATCHED_MARKER = '.buildbot-patched';
/** Where a try job's patch is put for `git apply` (Buildbot's name). */
const DIFF_FILE = '.buildbot-diff';
const CLEAN_IGNORED = [...CLEAN, '-x'];

/** Thrown at construction for options Buildbot rejects at config time. */
export class GitConfigError extends Error {
  override readonly name = 'GitConfigError';
}

/** A git command failed; the step ends FAILURE (Buildbot's BuildStepFailed). */
class GitStepFailed extends Error {
  constructor(readonly command: readonly string[]) {
    super(`git ${command.join(' ')} failed`);
  }
}

export class Git extends Step<GitOptions> {
  constructor(options: GitOptions) {
    checkOptions(options);
    // Buildbot's source steps halt the build on failure: nothing to build without sources.
    super({ haltOnFailure: true, ...options }, 'git');
  }

  async run(ctx: StepContext): Promise<Result> {
    const { branch, repourl, reference, origin, workdir, env, timeout, ...rest } = this.options;
    const resolved: ResolvedGitOptions = {
      ...rest,
      repourl: await stepValue(repourl, ctx),
      ...(workdir === undefined ? {} : { workdir: await stepString(workdir, ctx, 'workdir') }),
      ...(env === undefined ? {} : { env: await stepValue(env, ctx) }),
      ...(timeout === undefined ? {} : { timeout: await stepNumber(timeout, ctx, 'timeout') }),
      ...(branch === undefined ? {} : { branch: await stepValue(branch, ctx) }),
      ...(reference === undefined ? {} : { reference: await stepValue(reference, ctx) }),
      ...(origin === undefined ? {} : { origin: await stepValue(origin, ctx) }),
    };
    // Checked at config time for a plain workdir; a rendered one can only be checked now.
    if (resolved.method === 'copy' && resolved.workdir === COPY_SOURCE_DIR)
      throw new StepOptionError(
        'workdir',
        resolved.workdir,
        `other than '${COPY_SOURCE_DIR}' with method 'copy'`,
      );
    const patch = resolved.alwaysUseLatest ? null : await ctx.sourcePatch('');
    if (patch) {
      const log = await ctx.addLog('patch');
      await log.write('o', patch.body.toString('utf8'));
      await log.finish();
    }
    const run = new GitRun(resolved, ctx, patch);
    try {
      await run.checkout();
      return SUCCESS;
    } catch (err) {
      if (err instanceof GitStepFailed) return FAILURE;
      throw err;
    }
  }
}

function checkOptions(o: GitOptions): void {
  // As in Buildbot, a method in mode incremental is ignored.
  const full = o.mode === 'full';
  if (o.shallow !== undefined && o.shallow !== false) {
    if (!full || o.method !== 'clobber')
      throw new GitConfigError("git: shallow needs mode 'full' and method 'clobber'");
    if (typeof o.shallow === 'number' && !(Number.isInteger(o.shallow) && o.shallow > 0))
      throw new GitConfigError(`git: shallow must be true or a depth ≥ 1, not ${o.shallow}`);
  }
  if (o.method === 'copy' && (o.workdir ?? 'build') === COPY_SOURCE_DIR)
    throw new GitConfigError(
      `git: method 'copy' keeps its checkout in '${COPY_SOURCE_DIR}'; use another workdir`,
    );
  if (o.retry !== undefined) {
    const [delay, repeats] = o.retry;
    if (!(delay >= 0) || !Number.isInteger(repeats) || repeats < 0)
      throw new GitConfigError('git: retry is [delay seconds ≥ 0, repeats ≥ 0]');
  }
}

/** The `git describe` arguments for `getDescription`, in Buildbot's flag order. */
export function describeCommand(options: true | GitDescribeOptions): string[] {
  const o: GitDescribeOptions = options === true ? {} : options;
  const command = ['describe'];
  for (const flag of ['all', 'always', 'contains', 'debug', 'long', 'exact-match', 'tags'] as const) {
    if (o[flag]) command.push(`--${flag}`);
  }
  if (o.match) command.push('--match', o.match);
  // Numbers count even when 0 (`--abbrev=0` shows the tag alone).
  if (typeof o.abbrev === 'number') command.push(`--abbrev=${o.abbrev}`);
  if (typeof o.candidates === 'number') command.push(`--candidates=${o.candidates}`);
  if (o.dirty === true || o.dirty === '') command.push('--dirty');
  else if (typeof o.dirty === 'string') command.push(`--dirty=${o.dirty}`);
  // --dirty describes the work tree and takes no commit.
  if (o.dirty === undefined || o.dirty === false) command.push('HEAD');
  return command;
}

class GitRun {
  /** Where git commands run; method `copy` points it at its source directory for a while. */
  workdir: string;
  readonly branch: string;
  readonly revision: string | null;
  /** Clone retries left (`retry`). */
  retriesLeft: number;

  constructor(
    readonly o: ResolvedGitOptions,
    readonly ctx: StepContext,
    /** A try job's patch, applied after the checkout. */
    readonly patch: SourceStampPatch | null,
  ) {
    this.workdir = o.workdir ?? 'build';
    const branch = ctx.getProperty('branch');
    const revision = ctx.getProperty('revision');
    this.branch = typeof branch === 'string' && branch !== '' ? branch : (o.branch ?? 'HEAD');
    this.revision = !o.alwaysUseLatest && typeof revision === 'string' && revision !== '' ? revision : null;
    this.retriesLeft = o.retry?.[1] ?? 0;
  }

  get submodules(): boolean {
    return this.o.submodules ?? false;
  }

  async checkout(): Promise<void> {
    const version = await this.git(['--version'], { collect: true, check: false });
    if (version.rc !== 0) throw new GitStepFailed(['--version']);
    if (await this.exists(`${this.workdir}/${PATCHED_MARKER}`)) await this.git(CLEAN_IGNORED);
    if (this.o.mode === 'full') await this.full();
    else await this.incremental();
    if (this.patch) await this.applyPatch(this.patch);
    await this.gotRevision();
    if (this.o.getDescription) await this.describe(this.o.getDescription);
  }

  async full(): Promise<void> {
    const method = this.o.method ?? 'fresh';
    if (method === 'clobber') return this.clobber();
    if (method === 'copy') return this.copy();
    const action = await this.updatable();
    if (action === 'clobber') return this.clobber();
    if (action === 'clone') return this.fullCloneOrFallback();
    if (method === 'clean') return this.clean();
    return this.fresh();
  }

  async incremental(): Promise<void> {
    const action = await this.updatable();
    if (action === 'clobber') return this.clobber();
    if (action === 'clone') return this.fullCloneOrFallback();
    await this.fetchOrFallback();
    await this.updateSubmodules();
  }

  async clean(): Promise<void> {
    await this.git(CLEAN);
    await this.fetchOrFallback();
    await this.updateSubmodules();
    await this.cleanSubmodules(CLEAN);
    // After the checkout, a submodule the new revision no longer has is an untracked
    // repository in the tree; this second clean (-f -f) removes it.
    if (this.submodules) await this.git(CLEAN);
  }

  async fresh(): Promise<void> {
    const clean = await this.git(CLEAN_IGNORED, { check: false });
    if (clean.rc === 0) await this.fetchOrFallback();
    else {
      await this.removeWorkdir();
      await this.fullCloneOrFallback();
    }
    await this.updateSubmodules();
    await this.cleanSubmodules(CLEAN_IGNORED);
    if (this.submodules) await this.git(CLEAN_IGNORED);
  }

  /** A checkout kept in `source`, updated incrementally, then copied over a removed workdir. */
  async copy(): Promise<void> {
    // Buildbot goes on when this fails, but `cp -R` into a directory that is still there
    // would copy the checkout into a subdirectory of it and build stale files: stop here.
    await this.removeWorkdir();
    const target = this.workdir;
    this.workdir = COPY_SOURCE_DIR;
    try {
      await this.incremental();
    } finally {
      this.workdir = target;
    }
    const out = await this.ctx.runCommand({
      name: 'cpdir',
      args: {
        fromdir: COPY_SOURCE_DIR,
        todir: target,
        logEnviron: this.o.logEnviron ?? true,
        timeout: this.o.timeout ?? 1200,
      },
      logName: 'stdio',
    });
    if (out.rc !== 0) throw new GitStepFailed(['(cpdir)', COPY_SOURCE_DIR, target]);
  }

  async clobber(): Promise<void> {
    await this.removeWorkdir();
    const depth = this.o.shallow === true ? 1 : this.o.shallow || 0;
    const rc = await this.fullClone(depth);
    if (rc !== 0) throw new GitStepFailed(['clone']);
  }

  async fullCloneOrFallback(): Promise<void> {
    const rc = await this.fullClone(0);
    if (rc === 0) return;
    if (!this.o.clobberOnFailure) throw new GitStepFailed(['clone']);
    await this.clobber();
  }

  /** Clone, then the revision and the submodules; the first failing rc, or 0. */
  async fullClone(depth: number): Promise<number | null> {
    const rc = await this.clone(depth);
    if (rc !== 0) return rc;
    if (this.revision) {
      const checkout = await this.git(['checkout', '-f', this.revision], { check: false });
      if (checkout.rc !== 0) return checkout.rc;
    }
    if (this.submodules) {
      const command = ['submodule', 'update', '--init', '--recursive'];
      if (this.o.remoteSubmodules) command.push('--remote');
      return (await this.git(command, { check: false })).rc;
    }
    return 0;
  }

  async clone(depth: number): Promise<number | null> {
    const command = ['clone'];
    // A refs/… branch cannot be cloned directly: it is fetched into the fresh clone.
    const fetchBranch = this.branch.startsWith('refs/');
    if (this.branch !== 'HEAD')
      command.push(...(fetchBranch ? ['--no-checkout'] : ['--branch', this.branch]));
    if (depth > 0) command.push('--depth', String(depth));
    if (this.o.reference) command.push('--reference', this.o.reference);
    if (this.o.origin) command.push('--origin', this.o.origin);
    command.push(this.o.repourl, '.');
    if (this.o.progress ?? true) command.push('--progress');
    let rc = (await this.git(command, { check: false })).rc;
    if (rc === 0 && fetchBranch) rc = await this.fetch(true);
    if (rc === 0 || this.retriesLeft <= 0 || this.ctx.signal.aborted) return rc;
    this.retriesLeft -= 1;
    await sleep((this.o.retry?.[0] ?? 0) * 1000, this.ctx.signal);
    if (this.ctx.signal.aborted) return rc;
    // git refuses to clone into a non-empty directory: what the failed clone left must go.
    await this.removeWorkdir();
    return this.clone(depth);
  }

  async fetchOrFallback(): Promise<void> {
    const fallback = this.o.retryFetch || this.o.clobberOnFailure;
    const rc = await this.fetch(!fallback);
    if (rc === 0) return;
    if (this.o.retryFetch) await this.fetch(true);
    else await this.clobber();
  }

  /** Fetch the branch unless the revision is already here, then check it out. */
  async fetch(check: boolean): Promise<number | null> {
    let needFetch = true;
    if (this.revision) {
      const known = await this.git(['cat-file', '-e', this.revision], { check: false });
      needFetch = known.rc !== 0;
    }
    if (needFetch) {
      const command = ['fetch', '-f', '-t', this.o.repourl, this.branch];
      if (this.o.progress ?? true) command.push('--progress');
      const fetched = await this.git(command, { check });
      if (fetched.rc !== 0) return fetched.rc;
    }
    const checkout = await this.git(['checkout', '-f', this.revision ?? 'FETCH_HEAD'], { check });
    // A local branch of that name, for builds that look at `git branch`; optional.
    if (checkout.rc === 0 && this.branch !== 'HEAD')
      await this.git(['checkout', '-B', this.branch], { check: false });
    return checkout.rc;
  }

  async updateSubmodules(): Promise<void> {
    if (!this.submodules) return;
    // sync first: a submodule whose URL changed in .gitmodules is fetched from the new one.
    await this.git(['submodule', 'sync']);
    const command = ['submodule', 'update', '--init', '--recursive', '--force', '--checkout'];
    if (this.o.remoteSubmodules) command.push('--remote');
    await this.git(command);
  }

  async cleanSubmodules(clean: readonly string[]): Promise<void> {
    if (!this.submodules) return;
    await this.git(['submodule', 'foreach', '--recursive', ['git', ...clean].join(' ')]);
  }

  /**
   * As Buildbot's Git step: the patch goes to the worker as `.buildbot-diff` and the tree is
   * marked patched (the next build cleans it first); then `git update-index --refresh` and
   * `git apply --index`, in the patch's subdirectory if it has one, and the diff file is
   * removed. Buildbot feeds the diff on stdin instead, but workers (stock ones too) decode
   * command arguments as UTF-8: a file carries any patch, binary ones included, to either.
   */
  async applyPatch(patch: SourceStampPatch): Promise<void> {
    const tree = this.workdir;
    const subdir = patch.subdir ? safeSubdir(patch.subdir) : null;
    const patchDir = subdir ? `${tree}/${subdir}` : tree;
    await this.download(patchDir, DIFF_FILE, patch.body);
    await this.download(tree, PATCHED_MARKER, 'patched\n');
    this.workdir = patchDir;
    try {
      await this.git(['update-index', '--refresh']);
      await this.git(['apply', '--index', '-p', String(patch.level), DIFF_FILE]);
    } finally {
      this.workdir = tree;
    }
    const removed = await this.ctx.runCommand({
      name: 'rmdir',
      args: { dir: `${patchDir}/${DIFF_FILE}`, logEnviron: this.o.logEnviron ?? true },
      logName: 'stdio',
    });
    if (removed.rc !== 0) throw new GitStepFailed(['(rmdir)', DIFF_FILE]);
  }

  async download(workdir: string, file: string, content: string | Uint8Array): Promise<void> {
    const out = await this.ctx.runCommand({
      name: 'downloadFile',
      args: {
        workdir,
        workerdest: file,
        reader: new StringFileReader(content),
        maxsize: null,
        blocksize: 32 * 1024,
        mode: null,
      },
      logName: 'stdio',
    });
    if (out.rc !== 0) throw new GitStepFailed(['(download)', file]);
  }

  async gotRevision(): Promise<void> {
    const head = await this.git(['rev-parse', 'HEAD'], { collect: true });
    const revision = head.stdout.trim();
    if (revision.length !== GIT_HASH_LENGTH) throw new GitStepFailed(['rev-parse', 'HEAD']);
    this.ctx.setProperty('got_revision', revision, 'Git');
  }

  async describe(options: true | GitDescribeOptions): Promise<void> {
    // No tag to describe from is common and no reason to fail the checkout.
    const out = await this.git(describeCommand(options), { collect: true, check: false });
    if (out.rc === 0) this.ctx.setProperty('commit-description', out.stdout.trim(), 'Git');
  }

  async updatable(): Promise<'update' | 'clone' | 'clobber'> {
    const out = await this.ctx.runCommand({ name: 'listdir', args: { dir: this.workdir }, logName: 'stdio' });
    const files = out.updates.files?.[0];
    if (!Array.isArray(files)) return 'clone';
    if (files.includes('.git')) return 'update';
    return files.length > 0 ? 'clobber' : 'clone';
  }

  async removeWorkdir(): Promise<void> {
    const out = await this.ctx.runCommand({
      name: 'rmdir',
      args: { dir: this.workdir, logEnviron: this.o.logEnviron ?? true, timeout: this.o.timeout ?? 1200 },
      logName: 'stdio',
    });
    if (out.rc !== 0) throw new GitStepFailed(['(rmdir)', this.workdir]);
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
    const config = Object.entries(this.o.config ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
    const out = await this.ctx.runCommand({
      name: 'shell',
      // As Buildbot's Git: SIGTERM first, so an interrupted git can remove its lock files.
      args: shellArgs({
        workdir: this.workdir,
        command: ['git', ...config, ...args],
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

/** A patch subdirectory inside the tree, or null for one that would leave it. */
function safeSubdir(subdir: string): string | null {
  const parts = subdir.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (subdir.startsWith('/') || parts.includes('..') || parts.length === 0) return null;
  return parts.join('/');
}

/** Resolves after `ms`, or at once when the build is stopped. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** `git({ repourl })` — a Git source step. */
export function git(options: GitOptions): Git {
  return new Git(options);
}
