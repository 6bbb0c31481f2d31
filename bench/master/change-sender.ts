// sendchange.py in its own process (Twisted's PB, a connection per change, as `buildbot
// sendchange` makes): the one way changes reach both masters in these benchmarks.
import { join } from 'node:path';
import { JsonLines, ROOT, sleep, startChild, stopChild } from './common.ts';

export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Epoch milliseconds, as the sender's time.time() gives them. */
export interface SentChange {
  readonly sent: number;
  /** Before connecting and logging in. */
  readonly connectAt: number;
  /** Logged in: the addChange call goes out. */
  readonly callAt: number;
  /** The master answered addChange (the change is stored). */
  readonly ackAt: number;
}

export class ChangeSender {
  readonly #lines: JsonLines;

  constructor(port: number) {
    const child = startChild(SYSTEM_PYTHON, [
      join(ROOT, 'bench/master/sendchange.py'),
      '--port',
      String(port),
    ]);
    this.#lines = new JsonLines(child, 'sendchange.py');
  }

  /** Sends `count` changes on branch main, one after another; resolves with each one's times. */
  async send(count: number, timeoutMs = 600_000): Promise<SentChange[]> {
    this.#lines.send({ send: count });
    const sent: SentChange[] = [];
    for (;;) {
      const m = await this.#lines.next((x) => 'sent' in x || 'done' in x || 'error' in x, timeoutMs);
      if ('error' in m) throw new Error(`sendchange.py: ${String(m.error)}`);
      if ('done' in m) return sent;
      sent.push(m as unknown as SentChange);
    }
  }

  /** Its stdin closed, the sender stops its reactor and exits; killed if it has not within 3 s. */
  async stop(): Promise<void> {
    const { child } = this.#lines;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.stdin!.end();
    await Promise.race([exited, sleep(3000)]);
    await stopChild(child, 'SIGKILL');
  }
}
