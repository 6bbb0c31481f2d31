/**
 * The daemon's log file with size-based rotation, like twistd's: when
 * worker.log would exceed its limit it becomes worker.log.1 (older ones shift
 * up to .N, the oldest is dropped) and a new worker.log starts.
 */
import { closeSync, existsSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

export class RotatingLog {
  private fd: number;
  private size: number;

  constructor(
    readonly path: string,
    /** Rotate when the file would grow beyond this many bytes; 0 = never. */
    private readonly rotateLength: number,
    /** Rotated files kept; 0 = keep none (the log is just truncated). */
    private readonly maxRotatedFiles: number,
  ) {
    this.fd = openSync(path, 'a', 0o644);
    this.size = fstatSync(this.fd).size;
  }

  write(line: string): void {
    const data = Buffer.from(line.endsWith('\n') ? line : `${line}\n`);
    if (this.rotateLength > 0 && this.size > 0 && this.size + data.length > this.rotateLength) this.rotate();
    writeSync(this.fd, data);
    this.size += data.length;
  }

  close(): void {
    closeSync(this.fd);
  }

  private rotate(): void {
    closeSync(this.fd);
    if (this.maxRotatedFiles > 0) {
      const oldest = `${this.path}.${this.maxRotatedFiles}`;
      if (existsSync(oldest)) rmSync(oldest);
      for (let i = this.maxRotatedFiles - 1; i >= 1; i--) {
        if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      }
      renameSync(this.path, `${this.path}.1`);
    }
    this.fd = openSync(this.path, this.maxRotatedFiles > 0 ? 'a' : 'w', 0o644);
    this.size = 0;
  }
}
