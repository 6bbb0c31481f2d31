// What a reporter is told, and the one method it implements.
//
// Generators (reporters/generators) decide *what* to report: they turn the master's durable
// records (a build finished, a buildset completed, a worker gone too long) into Reports.
// Reporters decide *how* to deliver one: mail, IRC, chat webhooks, commit status, HTTP push.
// The framework (reporters/delivery) owns ordering, retries and the durable cursor, so a
// reporter's `deliver` is one attempt: resolve when the receiver accepted the report, throw
// when it did not (the framework retries with backoff, in order, at least once).
import type { Master } from '../master.js';
import type { Result } from '../results.js';

/** A change that may have caused a build's result, as blamelists and reports show it. */
export interface ReportChange {
  readonly changeid: number;
  readonly author: string;
  /** The author's mail address when the author string carries one (`Name <a@b>`). */
  readonly email: string | null;
  readonly revision: string | null;
  readonly branch: string | null;
  readonly repository: string;
  readonly comments: string;
  readonly files: readonly string[];
  /** A link to the change (e.g. the commit on the forge), when its source gave one. */
  readonly revlink: string | null;
}

/** The build a report is about. Everything a formatter needs, read once by the generator. */
export interface ReportBuild {
  readonly buildid: number;
  readonly number: number;
  readonly builderid: number;
  readonly builderName: string;
  readonly tags: readonly string[];
  /** null while the build runs (build-started reports). */
  readonly results: Result | null;
  readonly stateString: string;
  readonly startedAt: number;
  readonly completeAt: number | null;
  readonly workerName: string | null;
  /** The build's page in the web UI. */
  readonly url: string;
  readonly reason: string | null;
  /** The source the build used (first sourcestamp), for commit status and subjects. */
  readonly branch: string | null;
  readonly revision: string | null;
  readonly repository: string | null;
  readonly project: string | null;
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface ReportStep {
  readonly name: string;
  readonly results: Result | null;
  readonly stateString: string;
  /** The last lines of the step's most relevant log (stdio), when it failed. */
  readonly logTail: readonly string[];
}

/** The verdict of an automatic bisection, when one ran for the build. */
export interface ReportBisection {
  readonly state: 'running' | 'found' | 'inconclusive' | 'interrupted';
  readonly firstBad: ReportChange | null;
  readonly evidence: string | null;
}

interface ReportBase {
  /**
   * Unique and stable for one report to one reporter: the same event re-delivered after a
   * retry or a restart carries the same key, so receivers can drop repeats.
   */
  readonly key: string;
  /** Epoch seconds when the event happened (not when it is delivered). */
  readonly at: number;
}

export interface BuildReport extends ReportBase {
  readonly kind: 'build-started' | 'build-finished';
  readonly build: ReportBuild;
  /** The previous finished build of the same builder (and branch)'s result, if any. */
  readonly previousResults: Result | null;
  /** The changes since the last passing build: the people a failure is about. */
  readonly blamelist: readonly ReportChange[];
  /** Steps that did not pass, in order; empty for build-started and passing builds. */
  readonly failedSteps: readonly ReportStep[];
  readonly bisection: ReportBisection | null;
}

export interface BuildsetReport extends ReportBase {
  readonly kind: 'buildset-finished';
  readonly buildsetid: number;
  readonly results: Result;
  readonly reason: string | null;
  readonly builds: readonly ReportBuild[];
  readonly blamelist: readonly ReportChange[];
}

export interface WorkerMissingReport extends ReportBase {
  readonly kind: 'worker-missing';
  readonly workerName: string;
  /** Addresses from the worker's `notifyOnMissing` config. */
  readonly notify: readonly string[];
  /** Epoch seconds the worker was last seen. */
  readonly lastSeen: number | null;
  readonly missingSeconds: number;
  /** Set for a latent worker the master could not start: attempts in a row and the last error. */
  readonly startFailure?: { readonly attempts: number; readonly error: string };
}

export type Report = BuildReport | BuildsetReport | WorkerMissingReport;
export type ReportKind = Report['kind'];

/** What a delivery attempt may use besides the report. */
export interface DeliveryContext {
  /** Aborted when the master stops or the reporter is reconfigured away. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** The master's log, already scoped to the reporter. Never give it secrets. */
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** What a reporter may use when it starts. */
export interface ReporterStartContext {
  /** A secret from the config's secretsProviders (an SMTP password, a token). Never log it. */
  readonly getSecret: (name: string) => Promise<string>;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** The running master, for reporters that act on it (the IRC bot forces and stops builds). */
  readonly master?: Master;
}

/**
 * A delivery channel. Implement `deliver` (one attempt; throw on failure); which reports
 * reach it is decided by the generators configured with it, and the framework does the rest.
 */
export interface Reporter {
  /** Unique among the config's reporters; names the durable cursor, so keep it stable. */
  readonly name: string;
  deliver(report: Report, context: DeliveryContext): Promise<void>;
  /** Optional: connect (IRC) or check settings when the master starts. */
  start?(context?: ReporterStartContext): Promise<void>;
  stop?(): Promise<void>;
}

/**
 * Any other error thrown by `deliver` is retried with backoff; one carrying a numeric
 * `retryAfterMs` (RetryableDeliveryError, from a receiver's Retry-After or rate limit)
 * makes the next attempt wait at least that long (at most an hour).
 *
 * Thrown by `deliver` when retrying cannot help (e.g. 4xx other than 408/429): logged, not retried. */
export class PermanentDeliveryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentDeliveryError';
  }
}

const RESULT_WORDS = [
  'passed',
  'has warnings',
  'failed',
  'was skipped',
  'hit an exception',
  'will retry',
  'was cancelled',
];

/** One line for chat, IRC and subjects: "Build #12 of linux failed on main (abc1234)". */
export function reportSummary(report: Report): string {
  switch (report.kind) {
    case 'build-started':
    case 'build-finished': {
      const b = report.build;
      const verb = b.results == null ? 'started' : RESULT_WORDS[b.results];
      const where = [b.branch && `on ${b.branch}`, b.revision && `(${b.revision.slice(0, 12)})`]
        .filter(Boolean)
        .join(' ');
      return `Build #${b.number} of ${b.builderName} ${verb}${where ? ` ${where}` : ''}`;
    }
    case 'buildset-finished':
      return `Buildset ${report.buildsetid} ${RESULT_WORDS[report.results]} (${report.builds.length} builds)`;
    case 'worker-missing':
      if (report.startFailure)
        return `Worker ${report.workerName} could not be started (${report.startFailure.attempts} attempts)`;
      return `Worker ${report.workerName} has been missing for ${Math.round(report.missingSeconds / 60)} minutes`;
  }
}
