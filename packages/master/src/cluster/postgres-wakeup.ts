// The outbox relay's wake-up on PostgreSQL: every append NOTIFYs in its own transaction
// (data/outbox.ts), so a LISTENing master reads as soon as another master's events are
// committed, not at its next poll. The notice names the kinds appended, so the relay can
// leave events nobody on this master listens for to a later read. A slow poll stays as a
// safety net (a notification that arrived while the connection was being re-made), and
// the relay reads once after every (re)connection.

import { parseOutboxNotice } from '../data/outbox.js';
import type { Db } from '../db/connection.js';
import type { StopListening } from '../db/postgres.js';
import type { OutboxWakeup, Wake } from './outbox-relay.js';

export interface PostgresWakeupOptions {
  readonly listen: NonNullable<Db['listen']>;
  readonly channel: string;
  /** This master's id: its own appends need no wake-up of its own. */
  readonly masterid: number;
  /** The safety-net poll; default 2 s. */
  readonly safetyPollMs?: number;
  /** How long to wait before connecting again after the connection broke; default 1 s. */
  readonly retryMs?: number;
  readonly onError: (err: unknown, context: string) => void;
}

export class PostgresWakeup implements OutboxWakeup {
  constructor(private readonly o: PostgresWakeupOptions) {}

  listen(wake: Wake): () => void {
    const own = String(this.o.masterid);
    let stopped = false;
    let stopListening: StopListening | null = null;
    let retry: NodeJS.Timeout | null = null;
    const connect = async (): Promise<void> => {
      retry = null;
      try {
        const stop = await this.o.listen(
          this.o.channel,
          (payload) => {
            const notice = parseOutboxNotice(payload);
            if (notice.masterid !== own) wake(notice.kinds);
          },
          (err) => {
            stopListening = null;
            this.o.onError(err, 'listening for other masters’ events');
            scheduleRetry();
          },
        );
        if (stopped) {
          await stop();
          return;
        }
        stopListening = stop;
        // What was appended while no one listened.
        wake();
      } catch (err) {
        this.o.onError(err, 'listening for other masters’ events');
        scheduleRetry();
      }
    };
    const scheduleRetry = (): void => {
      if (stopped || retry) return;
      retry = setTimeout(() => void connect(), this.o.retryMs ?? 1000);
      retry.unref();
    };
    void connect();
    const poll = setInterval(() => wake(), this.o.safetyPollMs ?? 2000);
    poll.unref();
    return () => {
      stopped = true;
      clearInterval(poll);
      if (retry) clearTimeout(retry);
      void stopListening?.();
    };
  }
}
