// Delivers one reporter's reports: walks the outbox from the reporter's durable cursor, asks
// its generators for reports, hands each to `deliver` until it is accepted, and only then
// moves the cursor. So every report is delivered at least once, in order, across crashes
// and restarts (a repeat carries the same key). Failures are retried with exponential
// backoff and jitter; a PermanentDeliveryError is logged and skipped. Each reporter runs
// its own loop off the build path, so a slow or dead receiver delays no build and no
// other reporter.
import type { ReportEventKind, ReportEventRow, ReportEventsData } from '../data/report-events.js';
import type { Master } from '../master.js';
import type { ReportGenerator } from './generators.js';
import type { ReportReader } from './read.js';
import { PermanentDeliveryError, type Report, type Reporter } from './report.js';
import { usesSecrets } from './secret-option.js';

export interface RetryPolicy {
  /** The first retry's delay; each further one doubles it. Default 1000 ms. */
  readonly initialDelayMs: number;
  /** The longest wait between attempts. Default 5 minutes. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialDelayMs: 1000, maxDelayMs: 300_000 };

/** A reporter with the generators that feed it (the config's `reporters` entries, resolved). */
export interface ReporterBinding {
  readonly reporter: Reporter;
  readonly generators: readonly ReportGenerator[];
  readonly retry: RetryPolicy;
}

// A receiver's own "retry after" (rate limits) is honoured, within reason: a wrong header
// must not stall a reporter for days.
const MAX_ASKED_DELAY_MS = 3_600_000;

/** The wait an error asks for (`retryAfterMs`, e.g. RetryableDeliveryError's), or 0. */
function askedDelay(err: unknown): number {
  const asked = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof asked === 'number' && asked > 0 ? Math.min(asked, MAX_ASKED_DELAY_MS) : 0;
}

/** Exponential, with "equal jitter": between half and all of the doubled delay. */
export function retryDelay(policy: RetryPolicy, failures: number, random = Math.random): number {
  const full = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, failures - 1));
  return full / 2 + random() * (full / 2);
}

/** The key of the `index`th generator's report on an outbox event, stable across restarts. */
export function reportKey(reporter: string, event: ReportEventRow, index: number): string {
  return `${reporter}:${event.kind}:${event.id}:${index}`;
}

export interface RunnerContext {
  readonly events: ReportEventsData;
  readonly reader: ReportReader;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  readonly getSecret: (name: string) => Promise<string>;
  readonly master?: Master;
}

const PAGE = 100;
/** The loop looks at the outbox this often even when nothing pokes it. */
const IDLE_POLL_MS = 5000;

class Stopped extends Error {}

export class ReporterRunner {
  readonly #binding: ReporterBinding;
  readonly #abort = new AbortController();
  /** Rejects with Stopped when the runner stops. */
  readonly #stopped = new Promise<never>((_, reject) =>
    this.#abort.signal.addEventListener('abort', () => reject(new Stopped())),
  );
  #wake: (() => void) | null = null;
  #poked = false;
  #loop: Promise<void> | null = null;
  #cursor = 0;

  constructor(
    binding: ReporterBinding,
    private readonly ctx: RunnerContext,
  ) {
    this.#binding = binding;
    this.#stopped.catch(() => {});
  }

  get name(): string {
    return this.#binding.reporter.name;
  }

  /** Whether any of its generators reports events of this kind. */
  reports(kind: ReportEventKind): boolean {
    return this.#binding.generators.some((g) => g.events.includes(kind));
  }

  /** Starts from the stored cursor; a reporter seen for the first time starts after `startAfter`. */
  async start(startAfter: number): Promise<void> {
    const state = await this.ctx.events.stateOf(this.name, startAfter);
    this.#loop = this.#run(state.cursor).catch((err) => {
      if (!(err instanceof Stopped)) this.ctx.log('error', `delivery stopped: ${message(err)}`);
    });
  }

  /** Resolves once every event in the outbox now has been handled (tests, benchmarks). */
  async idle(): Promise<void> {
    const target = await this.ctx.events.lastId();
    this.poke();
    while (this.#cursor < target && !this.#abort.signal.aborted) await new Promise((r) => setTimeout(r, 20));
  }

  /** New events may be in the outbox. */
  poke(): void {
    this.#poked = true;
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    await this.#binding.reporter.stop?.();
  }

  async #run(from: number): Promise<void> {
    // A reporter that cannot start (a missing secret, a server down) is retried like a delivery.
    const reporter = this.#binding.reporter;
    await this.#persist(async () => {
      try {
        if (usesSecrets(reporter)) reporter.useSecrets(this.ctx.getSecret);
        await reporter.start?.({
          getSecret: this.ctx.getSecret,
          log: this.ctx.log,
          ...(this.ctx.master && { master: this.ctx.master }),
        });
      } catch (err) {
        await this.ctx.events.recordError(this.name, `starting: ${message(err)}`).catch(() => {});
        throw err;
      }
    }, 'starting');
    this.#cursor = from;
    while (!this.#abort.signal.aborted) {
      this.#poked = false;
      const events = await this.#persist(
        () => this.ctx.events.after(this.#cursor, PAGE),
        'reading the outbox',
      );
      // The cursor is written after each event that made reports, so that a crash repeats
      // at most the reports in flight; events that made none are written with the next
      // write, at the latest at the end of the page (a crash makes them read again, harmlessly).
      let unwritten: number | null = null;
      for (const event of events) {
        const { reports, delivered } = await this.#handle(event);
        if (reports === 0) {
          unwritten = event.id;
          continue;
        }
        await this.#advance(event.id, delivered);
        unwritten = null;
      }
      if (unwritten !== null) await this.#advance(unwritten, 0);
      if (events.length === 0 && !this.#poked) await this.#sleep(IDLE_POLL_MS);
    }
  }

  async #advance(cursor: number, delivered: number): Promise<void> {
    await this.#persist(() => this.ctx.events.advance(this.name, cursor, delivered), 'moving the cursor');
    this.#cursor = cursor;
  }

  /** Delivers what the generators make of one event: how many reports, how many accepted. */
  async #handle(event: ReportEventRow): Promise<{ reports: number; delivered: number }> {
    let reports = 0;
    let delivered = 0;
    const { generators, reporter } = this.#binding;
    for (const [index, generator] of generators.entries()) {
      if (!generator.events.includes(event.kind)) continue;
      const key = reportKey(reporter.name, event, index);
      const report = await this.#persist(
        () => generator.generate(event, this.ctx.reader, key),
        `generating ${key} (${generator.name})`,
      );
      if (!report) continue;
      reports++;
      if (await this.#deliver(report)) delivered++;
    }
    return { reports, delivered };
  }

  /** True once accepted, false when refused for good. Retries everything else forever. */
  async #deliver(report: Report): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      this.#checkStopped();
      const reporter = this.#binding.reporter;
      try {
        // Stopping does not wait for a receiver that hangs: the attempt is abandoned (and
        // repeated after the restart, with the same key).
        await Promise.race([
          reporter.deliver(report, { signal: this.#abort.signal, attempt, log: this.ctx.log }),
          this.#stopped,
        ]);
        return true;
      } catch (err) {
        this.#checkStopped();
        const text = `${report.key}: ${message(err)}`;
        await this.ctx.events.recordError(this.name, text).catch(() => {});
        if (err instanceof PermanentDeliveryError) {
          this.ctx.log('error', `refused for good, skipped: ${text}`);
          return false;
        }
        const delay = Math.max(retryDelay(this.#binding.retry, attempt), askedDelay(err));
        this.ctx.log('warn', `attempt ${attempt} failed, retrying in ${Math.round(delay)} ms: ${text}`);
        await this.#sleep(delay, true);
      }
    }
  }

  /** Database work retried until it succeeds (a locked or full database passes). */
  async #persist<T>(work: () => Promise<T>, what: string): Promise<T> {
    for (let failures = 1; ; failures++) {
      this.#checkStopped();
      try {
        return await work();
      } catch (err) {
        this.#checkStopped();
        this.ctx.log('error', `${what}: ${message(err)}`);
        await this.#sleep(retryDelay(this.#binding.retry, failures), true);
      }
    }
  }

  /** Waits `ms`, or less when poked (unless `full`: a backoff is not cut short by new events). */
  #sleep(ms: number, full = false): Promise<void> {
    const signal = this.#abort.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      signal.addEventListener('abort', done);
      this.#wake = full ? null : done;
    });
  }

  #checkStopped(): void {
    if (this.#abort.signal.aborted) throw new Stopped();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
