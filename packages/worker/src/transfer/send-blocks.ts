import type { ByteSource } from './byte-source.js';

export interface SendBlocksOptions {
  /** Bytes per write (Buildbot masters ask for 16 KiB to 256 KiB). */
  blocksize: number;
  /** Bytes allowed in total, or null for no limit. */
  maxsize: number | null;
  /** Checked before every block: true once the command was interrupted. */
  stopped: () => boolean;
}

/**
 * Copies `source` to `write` block by block, each write awaited. Returns
 * 'truncated' when `maxsize` cut the data short, 'stopped' on interrupt.
 */
export async function sendBlocks(
  source: ByteSource,
  write: (block: Uint8Array) => Promise<void>,
  options: SendBlocksOptions,
): Promise<'done' | 'truncated' | 'stopped'> {
  let remaining = options.maxsize;
  for (;;) {
    if (options.stopped()) return 'stopped';
    let length = options.blocksize;
    if (remaining !== null && length > remaining) length = remaining;
    if (length <= 0) {
      // Exactly maxsize bytes is not a truncation: look for one byte more.
      return (await source.read(1)).length === 0 ? 'done' : 'truncated';
    }
    const block = await source.read(length);
    if (block.length === 0) return 'done';
    if (remaining !== null) remaining -= block.length;
    await write(block);
  }
}
