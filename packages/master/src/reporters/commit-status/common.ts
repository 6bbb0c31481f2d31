// What the commit status reporters share: which reports they act on (a build's start and
// end, when the build has a revision), where the commit lives (from the options or the
// build's repository URL) and the status's context name and description.
import type { Result } from '../../results.js';
import { resultName } from '../../results.js';
import { HttpReporter, type HttpReporterOptions } from '../http/reporter.js';
import { type DeliveryContext, PermanentDeliveryError, type Report, type ReportBuild } from '../report.js';
import type { SecretOption } from '../secret-option.js';

export interface CommitStatusOptions extends HttpReporterOptions {
  /** The API token: give it as `secret('name')`. Never logged nor quoted in errors. */
  readonly token: SecretOption;
  /** The forge's API base; each class documents its default and the form it takes. */
  readonly baseUrl?: string;
  /**
   * The status's name on the commit (GitHub/Gitea `context`, GitLab `name`, Bitbucket
   * `key` and `name`): a text or a function of the build; default `lathe/<builder name>`.
   */
  readonly context?: string | ((build: ReportBuild) => string);
  /**
   * `owner/repo` (Bitbucket `workspace/repo`, GitLab the project's full path or numeric id)
   * for every build, instead of reading it from each build's repository URL.
   */
  readonly repository?: string;
}

/** One status to set on a commit. */
export interface CommitStatus {
  readonly build: ReportBuild;
  readonly sha: string;
  /** The repository's path segments: `[owner, repo]`, or GitLab's whole namespace path. */
  readonly repository: readonly string[];
  readonly context: string;
  readonly description: string;
  /** null while the build runs. */
  readonly results: Result | null;
}

// GitHub's limit for a status description, and short enough for every forge's list view.
const DESCRIPTION_CHARS = 140;

export abstract class CommitStatusReporter extends HttpReporter {
  protected readonly options: CommitStatusOptions;
  /** The forge's name for errors and logs. */
  protected abstract readonly forge: string;
  /** GitLab addresses a project by its whole path; the others by its last two segments. */
  protected readonly wholePath: boolean = false;

  constructor(defaultName: string, options: CommitStatusOptions) {
    super(defaultName, options);
    this.options = options;
  }

  async deliver(report: Report, context: DeliveryContext): Promise<void> {
    if (report.kind !== 'build-started' && report.kind !== 'build-finished') {
      context.log(
        'info',
        `${this.forge} commit status is set for builds only; a ${report.kind} report is skipped`,
      );
      return;
    }
    const build = report.build;
    if (!build.revision) {
      context.log('info', `${describe(build)} has no revision: no ${this.forge} commit status`);
      return;
    }
    const repository = this.#repository(build);
    const token = await this.secret(this.options.token, `${this.forge} token`);
    await this.post(
      {
        build,
        sha: build.revision,
        repository,
        context: this.#context(build),
        description: description(build, report.kind === 'build-finished' ? build.results : null),
        results: report.kind === 'build-finished' ? build.results : null,
      },
      token,
      context,
    );
  }

  protected abstract post(status: CommitStatus, token: string, context: DeliveryContext): Promise<void>;

  #repository(build: ReportBuild): string[] {
    const path = this.options.repository
      ? this.options.repository.split('/').filter(Boolean)
      : build.repository
        ? repositoryPath(build.repository)
        : null;
    const minimum = this.wholePath ? 1 : 2;
    if (!path || path.length < minimum)
      throw new PermanentDeliveryError(
        `cannot tell which ${this.forge} repository ${describe(build)} is for: its repository is not ` +
          'a URL such as https://host/owner/repo or git@host:owner/repo; set the reporter’s repository option',
      );
    return this.wholePath ? path : path.slice(-2);
  }

  #context(build: ReportBuild): string {
    const context = this.options.context;
    if (typeof context === 'function') return context(build);
    return context ?? `lathe/${build.builderName}`;
  }
}

function describe(build: ReportBuild): string {
  return `build #${build.number} of ${build.builderName}`;
}

function description(build: ReportBuild, results: Result | null): string {
  const text =
    results == null
      ? `Build #${build.number} started`
      : `Build #${build.number}: ${build.stateString || resultName(results)}`;
  return text.length <= DESCRIPTION_CHARS ? text : `${text.slice(0, DESCRIPTION_CHARS - 1)}…`;
}

const URL_FORM = /^(?:https?|ssh|git|git\+ssh|ssh\+git):\/\//i;
// scp-like: [user@]host:path, as git takes it (the path must not start with //).
const SCP_FORM = /^(?:[^@/\s]+@)?[^:/\s]+:(?!\/\/)(.+)$/;

/**
 * The path segments of a repository URL without `.git`: `https://github.com/o/r.git`,
 * `git@github.com:o/r.git`, `ssh://git@host:22/o/r` all give `['o', 'r']`; null for local
 * paths and anything else that names no host.
 */
export function repositoryPath(repository: string): string[] | null {
  let path: string;
  if (URL_FORM.test(repository)) {
    try {
      path = decodeURIComponent(new URL(repository).pathname);
    } catch {
      return null;
    }
  } else {
    const scp = SCP_FORM.exec(repository);
    if (!scp) return null;
    path = scp[1]!;
  }
  const segments = path
    .replace(/\.git\/?$/, '')
    .split('/')
    .filter(Boolean);
  return segments.length > 0 ? segments : null;
}

/** `/seg/seg/…`, each segment URL-encoded. */
export function pathOf(...segments: readonly string[]): string {
  return segments.map((s) => `/${encodeURIComponent(s)}`).join('');
}
