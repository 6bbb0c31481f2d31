/**
 * Follows one of a shell command's `logfiles` while the command runs: checks the
 * file every two seconds and once more at the end, and sends whatever was
 * appended as `log` updates. A file that already existed when the command
 * started is only picked up once it changes (so stale content from a previous
 * build is not sent); with `follow`, only content added after the start is sent.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export const LOGFILE_POLL_INTERVAL_MS = 2000;

type Snapshot = { ctimeMs: number; mtimeMs: number; size: number };

export class LogfileWatcher {
  private readonly initial: Snapshot | undefined;
  private baseline: Snapshot | undefined;
  private fd: number | undefined;
  private position = 0;
  private readonly decoder = new TextDecoder('utf-8');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    readonly path: string,
    private readonly follow: boolean,
    private readonly onData: (name: string, text: string) => void,
  ) {
    this.initial = snapshot(path);
    this.baseline = this.initial;
  }

  start(intervalMs = LOGFILE_POLL_INTERVAL_MS): void {
    this.timer = setInterval(() => this.poll(), intervalMs);
  }

  /** Reads what is left and stops watching. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.poll();
    const rest = this.decoder.decode();
    if (rest !== '') this.onData(this.name, rest);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  poll(): void {
    try {
      if (this.fd === undefined && !this.open()) return;
      this.readNew();
    } catch {
      // The file vanished or became unreadable between checks; try again later.
    }
  }

  private open(): boolean {
    const now = snapshot(this.path);
    if (sameSnapshot(now, this.baseline)) return false;
    if (!now) {
      // Deleted (probably to be recreated): any new file counts as a change.
      this.baseline = undefined;
      return false;
    }
    this.fd = openSync(this.path, 'r');
    this.position = this.follow && this.initial ? Math.min(this.initial.size, now.size) : 0;
    return true;
  }

  private readNew(): void {
    const buffer = Buffer.alloc(10000);
    for (;;) {
      const n = readSync(this.fd!, buffer, 0, buffer.length, this.position);
      if (n === 0) return;
      this.position += n;
      const text = this.decoder.decode(buffer.subarray(0, n), { stream: true });
      if (text !== '') this.onData(this.name, text);
    }
  }
}

function snapshot(path: string): Snapshot | undefined {
  try {
    const s = statSync(path);
    return { ctimeMs: s.ctimeMs, mtimeMs: s.mtimeMs, size: s.size };
  } catch {
    return undefined;
  }
}

function sameSnapshot(a: Snapshot | undefined, b: Snapshot | undefined): boolean {
  if (!a || !b) return a === b;
  return a.ctimeMs === b.ctimeMs && a.mtimeMs === b.mtimeMs && a.size === b.size;
}
