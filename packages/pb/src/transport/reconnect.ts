/**
 * A client that stays connected: when the connection fails or drops, it tries
 * again after a delay that grows exponentially (with random jitter, so that many
 * clients cut off together do not all return at the same instant) up to a ceiling,
 * and starts again from the shortest delay once a connection has held.
 */

import type { PBConnection } from './tcp.js';
import { type ConnectOptions, connect } from './tcp.js';

export interface ReconnectOptions extends ConnectOptions {
  /** First retry delay. Default 1 s. */
  initialDelayMs?: number;
  /** Longest delay between attempts. Default 5 min. */
  maxDelayMs?: number;
  /** Growth per failed attempt. Default 1.6. */
  factor?: number;
  /** Random spread as a share of the delay (0.1 = ±10 %). Default 0.12. */
  jitter?: number;
  /** Stop after this many consecutive failed attempts (default: never). */
  maxAttempts?: number;
  /**
   * Runs on each new connection (log in, register…). If it throws, the connection
   * is closed and counts as a failed attempt, so a refused login backs off too.
   */
  onConnect: (connection: PBConnection) => void | Promise<void>;
  /** Told about every failure and the delay before the next attempt. */
  onRetry?: (error: unknown, delayMs: number, attempt: number) => void;
  /** Told when an established connection closes. */
  onDisconnect?: () => void;
  /** Called once when maxAttempts is exhausted. */
  onGiveUp?: (error: unknown) => void;
}

export class ReconnectingClient {
  connection?: PBConnection;
  private stopped = true;
  private attempt = 0;
  private timer?: NodeJS.Timeout;

  constructor(readonly options: ReconnectOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    void this.tryConnect();
  }

  /** Stops retrying and closes the current connection. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.connection?.close();
    this.connection = undefined;
  }

  /** The delay before attempt number `attempt` (1-based). */
  delayFor(attempt: number): number {
    const { initialDelayMs = 1000, maxDelayMs = 300_000, factor = 1.6, jitter = 0.12 } = this.options;
    const base = Math.min(maxDelayMs, initialDelayMs * factor ** Math.max(0, attempt - 1));
    const spread = base * jitter * (Math.random() * 2 - 1);
    return Math.max(0, Math.min(maxDelayMs, base + spread));
  }

  private async tryConnect(): Promise<void> {
    if (this.stopped) return;
    let conn: PBConnection | undefined;
    try {
      conn = await connect(this.options);
      if (this.stopped) {
        conn.close();
        return;
      }
      this.connection = conn;
      const connected = conn;
      let heldUp = false;
      void conn.closed.then(() => {
        if (this.connection === connected) this.connection = undefined;
        if (heldUp) this.options.onDisconnect?.();
        if (!this.stopped && heldUp) this.retry(new Error('connection lost'), true);
      });
      await this.options.onConnect(conn);
      heldUp = true;
      this.attempt = 0;
      if (!connected.broker.connected) {
        this.options.onDisconnect?.();
        this.retry(new Error('connection lost'), true);
      }
    } catch (err) {
      conn?.close();
      if (this.connection === conn) this.connection = undefined;
      this.retry(err, false);
    }
  }

  private retry(error: unknown, afterSuccess: boolean): void {
    if (this.stopped) return;
    this.attempt = afterSuccess ? 1 : this.attempt + 1;
    const { maxAttempts } = this.options;
    if (maxAttempts !== undefined && this.attempt > maxAttempts) {
      this.stopped = true;
      this.options.onGiveUp?.(error);
      return;
    }
    const delay = this.delayFor(this.attempt);
    this.options.onRetry?.(error, delay, this.attempt);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tryConnect(), delay);
  }
}
