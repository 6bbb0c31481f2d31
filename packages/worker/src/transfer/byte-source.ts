/** Pull-based byte sources that uploads read block by block. */
import type { FileHandle } from 'node:fs/promises';

export interface ByteSource {
  /** Up to `maxLength` bytes; an empty array at the end. */
  read(maxLength: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export class FileSource implements ByteSource {
  constructor(private readonly handle: FileHandle) {}

  async read(maxLength: number): Promise<Uint8Array> {
    const buffer = Buffer.alloc(maxLength);
    let filled = 0;
    // Fill the block completely unless the file ends: the master's writes
    // are cheaper in full blocks.
    while (filled < maxLength) {
      const { bytesRead } = await this.handle.read(buffer, filled, maxLength - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Re-blocks any async stream of chunks (an archive, a compressor's output). */
export class StreamSource implements ByteSource {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);
  private ended = false;

  constructor(
    stream: AsyncIterable<Uint8Array>,
    private readonly onClose: () => void = () => {},
  ) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  async read(maxLength: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let size = 0;
    while (size < maxLength) {
      if (this.pending.length === 0) {
        if (this.ended) break;
        const next = await this.iterator.next();
        if (next.done) {
          this.ended = true;
          break;
        }
        this.pending = next.value;
        continue;
      }
      const take = Math.min(maxLength - size, this.pending.length);
      parts.push(this.pending.subarray(0, take));
      this.pending = this.pending.subarray(take);
      size += take;
    }
    return Buffer.concat(parts, size);
  }

  async close(): Promise<void> {
    if (!this.ended) await this.iterator.return?.();
    this.ended = true;
    this.onClose();
  }
}
