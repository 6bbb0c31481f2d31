// The master-side objects of Buildbot's file transfers, passed to the worker by reference
// in the command's arguments: the worker calls their `remote_*` methods over PB. Writers
// receive a worker file (or a tar of a directory) into a temporary file next to the
// destination and move it into place only when complete; readers serve a master file or a
// string to `downloadFile`. Directories the master makes for an upload are private (0700).
import { chmod, type FileHandle, mkdir, open, rename, rm, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Referenceable } from '@lathe/pb';
import { decompressed, sniffCompression } from './decompress.js';
import { extractTar } from './extract.js';

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
  #truncated = false;
  #closed = false;
  /** This writer moved a file onto the destination (the worker closes even a failed upload). */
  #placed = false;
  readonly #tmp: string;

  constructor(
    readonly destination: string,
    /** Bytes beyond this are dropped, as in Buildbot (the worker also stops); see `truncated`. */
    readonly maxsize: number,
    readonly mode: number | null,
  ) {
    super();
    this.#tmp = join(dirname(destination), `.${process.pid}.${tmpCounter++}.lathe-upload`);
  }

  /** Bytes received so far (after truncation at maxsize). */
  get written(): number {
    return this.#written;
  }

  /** More than maxsize arrived (a worker that ignores maxsize cannot pass a cut file as whole). */
  get truncated(): boolean {
    return this.#truncated;
  }

  #file(): Promise<FileHandle> {
    this.#opening ??= (async () => {
      await mkdir(dirname(this.destination), { recursive: true, mode: 0o700 });
      this.#fh = await open(this.#tmp, 'w', 0o600);
      return this.#fh;
    })();
    return this.#opening;
  }

  async remote_write(data: unknown): Promise<void> {
    if (this.#closed) throw new TransferError('write after close');
    let bytes = toBytes(data);
    const room = this.maxsize - this.#written;
    if (bytes.length > room) {
      this.#truncated = true;
      if (room <= 0) return;
      bytes = bytes.subarray(0, room);
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

/**
 * Target of `uploadDirectory`: receives a tar stream, `unpack` extracts it into the
 * destination under the rules of `extractTar`; `maxsize` bounds the stream both as sent and
 * after decompression. Without `compress`, a gzip, bzip2 or xz stream is recognised by its
 * first bytes, as Buildbot's master does.
 */
export class DirectoryWriter extends FileWriter {
  readonly directory: string;
  /** Members the extraction skipped, with the reason, for the step's log. */
  readonly skipped: string[] = [];

  constructor(
    destination: string,
    maxsize: number,
    readonly compress: TarCompression,
  ) {
    // The archive itself is private.
    super(`${destination}.lathe-tar`, maxsize, 0o600);
    this.directory = destination;
  }

  async remote_unpack(): Promise<void> {
    await this.remote_close();
    try {
      if (this.truncated) throw new Error(`the upload is larger than maxsize ${this.maxsize}`);
      const compression = this.compress ?? (await sniffCompression(this.destination));
      const { skipped } = await extractTar(
        decompressed(this.destination, compression),
        this.directory,
        this.maxsize,
      );
      this.skipped.push(...skipped);
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
