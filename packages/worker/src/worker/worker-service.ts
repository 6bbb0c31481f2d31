/**
 * Keeps the worker connected to its master: connects, keeps the connection
 * alive, reconnects with exponential backoff when it drops, and shuts down
 * cleanly. A refused login is retried slowly (never in a tight loop); errors
 * no retry can fix end the service.
 */
import {
  type ConnectTarget,
  FatalConnectionError,
  LoginRefusedError,
  type MasterConnector,
  type MasterSession,
  MasterUnreachableError,
} from '../connection/master-connector.js';
import { logMessage } from '../util/log.js';
import type { Bot } from './bot.js';

export type ServiceEvent =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'connected' }
  | { kind: 'disconnected'; reason: string }
  | { kind: 'login-refused'; message: string }
  | { kind: 'unreachable'; message: string }
  | { kind: 'retrying'; delayMs: number }
  | { kind: 'fatal'; message: string }
  | { kind: 'stopped'; exitCode: number };

export interface BackoffPolicy {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** Shortest wait after a refused login: a wrong password must not hammer the master. */
  refusedMinMs: number;
}

export interface WorkerServiceOptions {
  target: ConnectTarget;
  bot: Bot;
  connector: MasterConnector;
  /** Seconds between keepalives; 0 = none. */
  keepaliveSeconds: number;
  /** Give up after this many failed attempts in a row; null = never. */
  maxRetries: number | null;
  backoff: BackoffPolicy;
  onEvent?: (event: ServiceEvent) => void;
  /** Jitter source, replaceable in tests. */
  random?: () => number;
}

/**
 * The wait before the next attempt. Jitter (up to +10 %, as Twisted's) spreads workers cut
 * off together, and a refused login waits at least `refusedMinMs`; neither may push the wait
 * past `maxMs`, the documented `--maxdelay`.
 */
export function reconnectWait(
  backoff: BackoffPolicy,
  delay: number,
  refused: boolean,
  random: number,
): number {
  const jittered = Math.min(delay, backoff.maxMs) * (1 + random * 0.1);
  return Math.min(backoff.maxMs, Math.max(refused ? backoff.refusedMinMs : 0, jittered));
}

/** Twisted's default reconnection policy, which buildbot-worker uses. */
export function defaultBackoff(maxDelaySeconds: number): BackoffPolicy {
  return { initialMs: 1000, factor: 1.5, maxMs: maxDelaySeconds * 1000, refusedMinMs: 30_000 };
}

export class WorkerService {
  private session: MasterSession | undefined;
  private stopping = false;
  private exitCode = 0;
  private wakeUp: (() => void) | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private finished: Promise<number> | undefined;

  constructor(private readonly options: WorkerServiceOptions) {}

  /** Runs until stopped; resolves with the process exit code. */
  run(): Promise<number> {
    this.finished ??= this.loop();
    return this.finished;
  }

  /** Stops now: running commands are killed, the connection is dropped. */
  stop(reason: string, exitCode = 0): void {
    if (this.stopping) return;
    logMessage(`stopping: ${reason}`);
    this.stopping = true;
    this.exitCode = exitCode;
    this.options.bot.stopAllCommands();
    this.session?.close();
    this.wakeUp?.();
  }

  /** The master asked us to shut down: let running commands finish first. */
  async shutdownWhenIdle(): Promise<void> {
    if (this.options.bot.busy) logMessage('waiting for running commands to finish before shutting down');
    await this.options.bot.whenIdle();
    // Give the answer to the master's shutdown() a moment to reach it.
    await new Promise((r) => setTimeout(r, 200));
    this.stop('shutdown requested by the master');
  }

  /** The worker's admin asked for a graceful shutdown (SIGHUP / shutdown.stamp). */
  async requestGracefulShutdown(): Promise<void> {
    if (!this.session) {
      this.stop('graceful shutdown requested while not connected');
      return;
    }
    logMessage('asking the master for a graceful shutdown');
    try {
      await this.session.requestShutdown();
    } catch (err) {
      logMessage(`the master did not accept the shutdown request (${describe(err)}); stopping now`);
      this.stop('graceful shutdown requested');
    }
  }

  private emit(event: ServiceEvent): void {
    this.options.onEvent?.(event);
  }

  private async loop(): Promise<number> {
    const { backoff } = this.options;
    let failures = 0;
    let delay = backoff.initialMs;
    while (!this.stopping) {
      this.emit({ kind: 'connecting', attempt: failures + 1 });
      const where = `${this.options.target.host}:${this.options.target.port}`;
      logMessage(`connecting to master at ${where} as '${this.options.target.name}'`);
      let refused = false;
      try {
        const session = await this.options.connector.connect(this.options.target, this.options.bot);
        if (this.stopping) {
          session.close();
          break;
        }
        failures = 0;
        delay = backoff.initialMs;
        await this.serve(session);
        if (this.stopping) break;
      } catch (err) {
        if (this.stopping) break;
        failures++;
        if (err instanceof LoginRefusedError) {
          logMessage(err.message);
          this.emit({ kind: 'login-refused', message: err.message });
          refused = true;
        } else if (err instanceof MasterUnreachableError) {
          logMessage(err.message);
          this.emit({ kind: 'unreachable', message: err.message });
        } else if (err instanceof FatalConnectionError) {
          logMessage(err.message);
          this.emit({ kind: 'fatal', message: err.message });
          this.stop(err.message, 1);
          break;
        } else {
          logMessage(`connection failed: ${describe(err)}`);
          this.emit({ kind: 'unreachable', message: describe(err) });
        }
        const limit = this.options.maxRetries;
        if (limit !== null && failures >= limit) {
          const message = `giving up after ${failures} failed connection attempts`;
          this.emit({ kind: 'fatal', message });
          this.stop(message, 1);
          break;
        }
      }
      const wait = reconnectWait(backoff, delay, refused, (this.options.random ?? Math.random)());
      delay = Math.min(delay * backoff.factor, backoff.maxMs);
      this.emit({ kind: 'retrying', delayMs: wait });
      logMessage(`reconnecting in ${(wait / 1000).toFixed(1)} s`);
      await this.sleep(wait);
    }
    this.emit({ kind: 'stopped', exitCode: this.exitCode });
    return this.exitCode;
  }

  /** Runs one connected session until the connection drops or we stop. */
  private async serve(session: MasterSession): Promise<void> {
    this.session = session;
    logMessage('connected to master; worker attached');
    this.emit({ kind: 'connected' });
    const seconds = this.options.keepaliveSeconds;
    if (seconds > 0) {
      this.keepaliveTimer = setInterval(() => {
        session.keepalive().catch((err) => logMessage(`keepalive failed: ${describe(err)}`));
      }, seconds * 1000);
    }
    const reason = await session.closed;
    clearInterval(this.keepaliveTimer);
    this.session = undefined;
    // Commands cannot report to a master that is gone: kill them (Buildbot does the same).
    this.options.bot.stopAllCommands();
    const why = reason ? describe(reason) : 'connection closed';
    logMessage(`lost connection to master: ${why}`);
    this.emit({ kind: 'disconnected', reason: why });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
