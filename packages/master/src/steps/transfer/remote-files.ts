// The master-side objects of Buildbot's file transfers, passed to the worker by reference
// in the command's arguments: the worker calls their `remote_*` methods over PB. Writers
// receive a worker file (or a tar of a directory) into a temporary file next to the
// destination and move it into place only when complete; readers serve a master file or a
// string to `downloadFile`.
import { execFile } from 'node:child_process';
import { chmod, type FileHandle, mkdir, open, rename, rm, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Referenceable } from '@lathe/pb';

const run = promisify(execFile);

/** A master-side transfer object failed; the worker reports it as the command's failure. */
export class TransferError extends Error {
  override readonly name = 'TransferError';
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  throw new TransferError(`expected bytes, got ${typeof data}`);
}

let tmpCounter = 0;

/** Target of `uploadFile`: write, close (rename into place, chmod), utime. */
export class FileWriter extends Referenceable {
  #fh: FileHandle | null = null;
  #opening: Promise<FileHandle> | null = null;
  #written = 0;
  #closed = false;
  /** This writer moved a file onto the destination (the worker closes even a failed upload). */
  #placed = false;
  readonly #tmp: string;

  constructor(
    readonly destination: string,
    /** Bytes beyond this are silently dropped, as in Buildbot (the worker also stops). */
    readonly maxsize: number | null,
    readonly mode: number | null,
  ) {
    super();
    this.#tmp = join(dirname(destination), `.${process.pid}.${tmpCounter++}.lathe-upload`);
  }

  /** Bytes received so far (after truncation at maxsize). */
  get written(): number {
    return this.#written;
  }

  #file(): Promise<FileHandle> {
    this.#opening ??= (async () => {
      await mkdir(dirname(this.destination), { recursive: true });
      this.#fh = await open(this.#tmp, 'w', 0o600);
      return this.#fh;
    })();
    return this.#opening;
  }

  async remote_write(data: unknown): Promise<void> {
    if (this.#closed) throw new TransferError('write after close');
    let bytes = toBytes(data);
    if (this.maxsize !== null) {
      const room = this.maxsize - this.#written;
      if (room <= 0) return;
      if (bytes.length > room) bytes = bytes.subarray(0, room);
    }
    const fh = await this.#file();
    await fh.write(bytes);
    this.#written += bytes.length;
  }

  async remote_close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // An empty file still arrives: the worker sends no write for it.
    const fh = await this.#file();
    await fh.close();
    this.#fh = null;
    await this.finalize(this.#tmp);
  }

  /** Moves the complete temporary file into place, so readers never see half a file. */
  protected async finalize(tmp: string): Promise<void> {
    await rename(tmp, this.destination);
    this.#placed = true;
    if (this.mode !== null) await chmod(this.destination, this.mode);
  }

  async remote_utime(times: unknown): Promise<void> {
    if (!Array.isArray(times) || times.length !== 2) throw new TransferError('utime wants (atime, mtime)');
    await utimes(this.destination, Number(times[0]), Number(times[1]));
  }

  /** Removes what a failed or interrupted transfer left: the partial file, or what it placed. */
  async cancel(): Promise<void> {
    this.#closed = true;
    await this.#fh?.close().catch(() => {});
    this.#fh = null;
    await rm(this.#tmp, { force: true });
    if (this.#placed) await rm(this.destination, { force: true });
  }
}

export type TarCompression = 'gz' | 'bz2' | null;

/** Target of `uploadDirectory`: receives a tar stream, `unpack` extracts it into the destination. */
export class DirectoryWriter extends FileWriter {
  constructor(
    destination: string,
    maxsize: number | null,
    readonly compress: TarCompression,
  ) {
    // The archive itself is private; extracted files keep the modes the tar carries.
    super(`${destination}.lathe-tar`, maxsize, 0o600);
    this.directory = destination;
  }

  readonly directory: string;

  async remote_unpack(): Promise<void> {
    await this.remote_close();
    const flag = this.compress === 'gz' ? ['-z'] : this.compress === 'bz2' ? ['-j'] : [];
    await mkdir(this.directory, { recursive: true });
    try {
      // GNU tar drops leading '/' and refuses '..' members, so nothing lands outside.
      await run('tar', ['-x', ...flag, '-f', this.destination, '-C', this.directory]);
    } catch (err) {
      throw new TransferError(`cannot unpack the uploaded directory: ${(err as Error).message}`);
    } finally {
      await rm(this.destination, { force: true });
    }
  }
}

/** Source of `downloadFile` for a master file. */
export class FileReader extends Referenceable {
  #closed = false;
  #position = 0;

  constructor(readonly fh: FileHandle) {
    super();
  }

  async remote_read(maxLength: unknown): Promise<Uint8Array | string> {
    // Buildbot answers '' (text) once the reader is closed; the worker treats it as EOF too.
    if (this.#closed) return '';
    const want = Math.max(0, Math.min(Number(maxLength) || 0, 1 << 20));
    const buf = Buffer.alloc(want);
    const { bytesRead } = await this.fh.read(buf, 0, want, this.#position);
    this.#position += bytesRead;
    return buf.subarray(0, bytesRead);
  }

  async remote_close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.fh.close();
  }
}

/** Source of `downloadFile` for text made on the master (StringDownload). */
export class StringFileReader extends Referenceable {
  #closed = false;
  #position = 0;
  readonly #data: Buffer;

  constructor(data: string | Uint8Array) {
    super();
    this.#data = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  }

  remote_read(maxLength: unknown): Uint8Array | string {
    if (this.#closed) return '';
    const want = Math.max(0, Number(maxLength) || 0);
    const chunk = this.#data.subarray(this.#position, this.#position + want);
    this.#position += chunk.length;
    return chunk;
  }

  remote_close(): void {
    this.#closed = true;
  }
}
