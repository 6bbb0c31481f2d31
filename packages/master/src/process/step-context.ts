// What a step sees while it runs (StepContext): its logs, the build's properties, and
// commands on the build's worker. A build stop interrupts the step's running commands; a
// lost worker fails them with WorkerLostError.
import { ConnectionLostError } from '@lathe/pb';
import { AnnotationTooLargeError } from '../data/annotations.js';
import type { DataLayer } from '../data/index.js';
import type { SourceStampPatch } from '../data/sourcestamps.js';
import type { LineConsumer } from '../logparsers/lines.js';
import { ObservedStepLog } from '../logparsers/observe.js';
import type { TestOutcome, TestSummary } from '../logparsers/summary.js';
import type { WarningReport } from '../logparsers/warnings.js';
import { LogWriter, type LogWriterOptions } from '../logs/writer.js';
import type { BuildMetricsCollector } from '../metrics/collector.js';
import { RedactingStepLog } from '../properties/redacting-log.js';
import type { Redactor } from '../properties/redactor.js';
import { type RenderContext, type Rendered, render } from '../properties/renderable.js';
import type {
  AnnotationOptions,
  BuildRequester,
  RemoteCommand,
  RemoteCommandOutcome,
  StepContext,
  StepLog,
} from '../steps/contract.js';
import { type WorkerChannel, WorkerLostError } from '../workers/channel.js';
import { ANNOTATION_LOG, AnnotationCollector } from './annotation-log.js';
import { CommandRun } from './command.js';
import { type BuiltSource, testRevision } from './test-revision.js';

/** What a step needs from the build it belongs to. */
export interface StepHost {
  readonly data: DataLayer;
  readonly buildid: number;
  readonly builderid: number;
  /** The build's source stamps, for the revision its tests ran against. */
  readonly builtSources: readonly BuiltSource[];
  readonly channel: WorkerChannel;
  readonly builderName: string;
  readonly buildNumber: number;
  readonly workerName: string;
  readonly logOptions: LogWriterOptions;
  readonly masterBasedir: string;
  getProperty(name: string): unknown;
  setProperty(name: string, value: unknown, source: string): void;
  /** Why the build was stopped, if it was. */
  readonly stopReason: string | null;
  /** Secrets handed out for this build; every log of the build is redacted with it. */
  readonly redactor: Redactor;
  readonly renderContext: RenderContext;
  readonly metrics: BuildMetricsCollector;
  readonly builds: BuildRequester;
  sourcePatch(codebase: string): Promise<SourceStampPatch | null>;
  /** The running step wrote more output: `lines` complete lines so far (ETA progress). */
  stepOutput(step: string, lines: number): void;
}

/** A log consumer list that can grow after the log exists (a step may observe late). */
class ConsumerList implements LineConsumer {
  readonly consumers: LineConsumer[] = [];
  line(text: string): void {
    for (const c of this.consumers) c.line(text);
  }
}

interface OpenLog {
  readonly log: Promise<StepLog>;
  readonly consumers: ConsumerList;
  observed: ObservedStepLog | null;
  closed: boolean;
}

/** The build was stopped before this command could start. */
export class BuildStoppedError extends Error {
  override readonly name = 'BuildStoppedError';
  constructor(readonly reason: string) {
    super(`build stopped: ${reason}`);
  }
}

export class StepRun implements StepContext {
  readonly #logs = new Map<string, OpenLog>();
  readonly #commands = new Set<CommandRun>();
  #annotation: AnnotationCollector | null = null;
  #resultSummary: string | null = null;

  constructor(
    private readonly host: StepHost,
    readonly stepid: number,
    readonly stepName: string,
    /** Aborted when the build is stopped while this step runs. */
    readonly signal: AbortSignal,
  ) {}

  get masterBasedir(): string {
    return this.host.masterBasedir;
  }
  get builds(): BuildRequester {
    return this.host.builds;
  }

  sourcePatch(codebase: string): Promise<SourceStampPatch | null> {
    return this.host.sourcePatch(codebase);
  }

  get builderName(): string {
    return this.host.builderName;
  }
  get buildNumber(): number {
    return this.host.buildNumber;
  }
  get workerName(): string {
    return this.host.workerName;
  }
  /** The worker's info (`getWorkerInfo`): commands and versions, os, basedir… */
  get workerInfo(): Readonly<Record<string, unknown>> {
    return this.host.channel.info;
  }

  getProperty(name: string): unknown {
    return this.host.getProperty(name);
  }

  setProperty(name: string, value: unknown, source: string): void {
    this.host.setProperty(name, value, source);
  }

  /** The step's log of that name, created on first use (stdio type: o/e/h lines). */
  addLog(name: string): Promise<StepLog> {
    return this.#log(name);
  }

  #open(name: string): OpenLog {
    let open = this.#logs.get(name);
    if (!open) {
      const consumers = new ConsumerList();
      if (name === ANNOTATION_LOG) {
        this.#annotation = new AnnotationCollector();
        consumers.consumers.push(this.#annotation);
      }
      const entry: OpenLog = {
        consumers,
        observed: null,
        closed: false,
        // Parsers see redacted text (a secret must not reach a warning list or a test
        // name either), so redaction sits outside the observer.
        // This step's logs are all added here: the names so far spare reading them.
        log: this.host.data.logs.add(this.stepid, name, 's', [...this.#logs.keys()]).then((logid) => {
          const writer = new LogWriter(this.host.data.logs, logid, this.host.logOptions);
          const observed = new ObservedStepLog(writer, [consumers]);
          entry.observed = observed;
          return new RedactingStepLog(this.#progress(observed), this.host.redactor);
        }),
      };
      open = entry;
      this.#logs.set(name, open);
    }
    return open;
  }

  /** Reports the step's output lines to the build after each write (the ETA's signal). */
  #progress(inner: StepLog): StepLog {
    return {
      write: async (stream, text) => {
        await inner.write(stream, text);
        this.host.stepOutput(this.stepName, this.outputLines);
      },
      finish: () => inner.finish(),
    };
  }

  #log(name: string): Promise<StepLog> {
    return this.#open(name).log;
  }

  /** Complete stdout/stderr lines written to all of the step's logs so far. */
  get outputLines(): number {
    let n = 0;
    for (const l of this.#logs.values()) n += l.observed?.lines ?? 0;
    return n;
  }

  observeLog(name: string, consumer: LineConsumer): void {
    this.#open(name).consumers.consumers.push(consumer);
  }

  async closeLog(name: string): Promise<void> {
    const open = this.#logs.get(name);
    if (!open || open.closed) return;
    open.closed = true;
    await (await open.log).finish();
  }

  render<T>(value: T): Promise<Rendered<T>> {
    return render(value, this.host.renderContext);
  }

  setMetric(name: string, value: number): void {
    this.host.metrics.set(name, value);
  }

  recordWarnings(report: Pick<WarningReport, 'count'>): void {
    this.host.metrics.warnings(this.stepName, report);
  }

  recordTests(summary: TestSummary): void {
    this.host.metrics.tests(this.stepName, summary);
  }

  mutedTests(): Promise<ReadonlySet<string>> {
    return this.host.data.testHistory.mutedNames(this.host.builderid);
  }

  async recordTestHistory(outcomes: readonly TestOutcome[], muted: ReadonlySet<string>): Promise<void> {
    await this.host.data.testHistory.record({
      builderid: this.host.builderid,
      buildid: this.host.buildid,
      stepid: this.stepid,
      revision: testRevision(this.getProperty('got_revision'), this.host.builtSources),
      outcomes,
      muted,
    });
  }

  // Annotation text is shown to everyone, like logs: a secret in it is masked the same way.
  async addAnnotation(markdown: string, options: AnnotationOptions = {}): Promise<void> {
    await this.host.data.annotations.add({
      buildid: this.host.buildid,
      stepid: this.stepid,
      markdown: this.host.redactor.redact(markdown),
      title: this.host.redactor.redact(options.title ?? this.stepName),
      style: options.style ?? 'info',
    });
  }

  async runCommand(command: RemoteCommand): Promise<RemoteCommandOutcome> {
    const { channel } = this.host;
    const signal = this.signal;
    if (!channel.connected) throw new WorkerLostError(this.host.workerName, 'not connected');
    if (signal.aborted) throw new BuildStoppedError(this.host.stopReason ?? 'stopped');
    const stdio = command.logName ? await this.#log(command.logName) : null;
    const logfiles = command.args.logfiles;
    const watched = new Set(logfiles && typeof logfiles === 'object' ? Object.keys(logfiles) : []);
    const named = async (n: string) => (watched.has(n) ? this.#log(n) : null);
    const run = new CommandRun(command.name, { stdio, named }, !!command.collectStdout);
    this.#commands.add(run);
    const offLost = channel.onDisconnect((reason) =>
      run.abort(new WorkerLostError(this.host.workerName, reason)),
    );
    let started = false;
    let interruptWanted = false;
    const interrupt = () => {
      run.interrupted = true;
      channel
        .interruptCommand(this.host.builderName, run.id, this.host.stopReason ?? 'build stopped')
        .catch(() => {
          // Nothing to do: the worker is gone (handled by offLost) or the command already ended.
        });
    };
    // Interrupting a command the worker has not accepted yet would be lost on it.
    const onAbort = () => {
      if (started) interrupt();
      else interruptWanted = true;
    };
    signal.addEventListener('abort', onAbort);
    try {
      try {
        await channel.startCommand(this.host.builderName, run.id, command.name, command.args, run);
      } catch (err) {
        if (err instanceof ConnectionLostError || !channel.connected) {
          throw new WorkerLostError(this.host.workerName, 'connection lost while starting a command');
        }
        throw err;
      }
      started = true;
      if (interruptWanted) interrupt();
      return await run.done;
    } finally {
      signal.removeEventListener('abort', onAbort);
      offLost();
      this.#commands.delete(run);
    }
  }

  // State strings and URLs are shown to everyone, like logs: a rendered secret in them
  // (a file name, a URL with a token) is masked the same way.
  async setState(text: string): Promise<void> {
    await this.host.data.steps.setState(this.stepid, this.host.redactor.redact(text));
  }

  setResultSummary(text: string): void {
    this.#resultSummary = this.host.redactor.redact(text);
  }

  /** What the finished step's state should say, if the step said (masked like setState). */
  get resultSummary(): string | null {
    return this.#resultSummary;
  }

  async addUrl(name: string, url: string): Promise<void> {
    const { redactor } = this.host;
    await this.host.data.steps.addUrl(this.stepid, redactor.redact(name), redactor.redact(url));
  }

  /** Flushes and closes every log of the step; the `annotation` log's text becomes an annotation. */
  async finish(): Promise<void> {
    await this.#annotationFromLog();
    for (const open of this.#logs.values()) {
      if (open.closed) continue;
      open.closed = true;
      const writer = await open.log.catch(() => null);
      await writer?.finish();
    }
  }

  async #annotationFromLog(): Promise<void> {
    const collected = this.#annotation;
    if (!collected) return;
    await this.closeLog(ANNOTATION_LOG).catch(() => {});
    if (collected.bytes === 0) return;
    if (!collected.tooLarge) return this.addAnnotation(collected.text);
    // The refusal is shown where the annotation would have been; the text stays in its log.
    const refused = new AnnotationTooLargeError(collected.bytes, this.stepName);
    await this.addAnnotation(`${refused.message}. The text is in the step's \`${ANNOTATION_LOG}\` log.`, {
      title: `${this.stepName}: annotation refused`,
      style: 'error',
    });
  }
}
