// A daemon's log with size-based rotation, like twistd's: when the log would grow past its
// limit it becomes `<log>.1` (older ones shift up, the oldest is dropped) and a new log
// starts. Writes are synchronous so that the last words before a crash or process.exit()
// are on disk. A log is private (0600): build output, paths and peers' addresses are not
// for every user of the machine.
import {
  closeSync,
  existsSync,
  fchmodSync,
  fstatSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';

export const DEFAULT_LOG_SIZE = 10_000_000;
export const DEFAULT_LOG_COUNT = 10;

export class RotatingLog {
  #fd: number;
  #size: number;

  constructor(
    readonly path: string,
    /** Rotate when the file would grow beyond this many bytes; 0 = never. */
    readonly rotateLength = DEFAULT_LOG_SIZE,
    /** Rotated files kept; 0 = keep none (the log is just truncated). */
    readonly maxRotatedFiles = DEFAULT_LOG_COUNT,
  ) {
    this.#fd = openPrivate(path, 'a');
    this.#size = fstatSync(this.#fd).size;
  }

  /** Appends `text` as a line (a newline is added if it has none). */
  write(text: string): void {
    const data = Buffer.from(text.endsWith('\n') ? text : `${text}\n`);
    if (this.rotateLength > 0 && this.#size > 0 && this.#size + data.length > this.rotateLength)
      this.#rotate();
    writeSync(this.#fd, data);
    this.#size += data.length;
  }

  close(): void {
    closeSync(this.#fd);
  }

  #rotate(): void {
    closeSync(this.#fd);
    if (this.maxRotatedFiles > 0) {
      const oldest = `${this.path}.${this.maxRotatedFiles}`;
      if (existsSync(oldest)) rmSync(oldest);
      for (let i = this.maxRotatedFiles - 1; i >= 1; i--) {
        if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      }
      renameSync(this.path, `${this.path}.1`);
    }
    this.#fd = openPrivate(this.path, this.maxRotatedFiles > 0 ? 'a' : 'w');
    this.#size = 0;
  }
}

/** Opens a log 0600, narrowing one an older version left readable by others. */
function openPrivate(path: string, flags: 'a' | 'w'): number {
  const fd = openSync(path, flags, 0o600);
  if ((fstatSync(fd).mode & 0o077) !== 0) fchmodSync(fd, 0o600);
  return fd;
}
