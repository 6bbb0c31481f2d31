// The stored form of a log chunk: its text as UTF-8 (`compressed` 0), or a zlib stream of
// it (`compressed` 1) when that is smaller. Each chunk is compressed on its own, so a
// line-range read decompresses only the chunks it needs.
//
// Memory: a master streaming a large log compresses a chunk every 64 KB. Each deflateSync
// call leaves native memory — its zlib state and output buffer — that is released only
// when V8 collects the call's small JS objects, and V8 does not count that memory towards
// its next collection until tens of MB have piled up. So the encoder (1) writes every
// chunk's UTF-8 through one reused buffer instead of a fresh one, and (2) when the master
// runs with --expose-gc (MASTER_NODE_FLAGS does that), asks for a collection after every
// few MB of log text: a cheap GC of a small heap bounds that pile-up to a few MB.
import { constants, deflateSync, inflateSync } from 'node:zlib';

export const RAW = 0;
export const ZLIB = 1;

export interface EncodedChunk {
  readonly content: Uint8Array;
  readonly compressed: number;
}

/** Below this, compression costs more than it saves. */
const COMPRESS_MIN_BYTES = 256;
/**
 * zlib level 1: about 3× faster than the default (6) on build output and within a few
 * percent of its size; compression was the master's largest cost when streaming logs.
 */
const COMPRESS_LEVEL = constants.Z_BEST_SPEED;
/** How much text is compressed between two requested collections. */
const GC_EVERY_BYTES = 8 * 1024 * 1024;

type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => unknown;

export class ChunkEncoder {
  /** Every chunk's UTF-8 bytes go here first; grown for the rare chunk that needs more. */
  #scratch: Buffer;
  #sinceGc = 0;
  readonly #gc: GcFunction | undefined;

  constructor(options: { scratchBytes?: number; gc?: GcFunction } = {}) {
    this.#scratch = Buffer.allocUnsafe(options.scratchBytes ?? 256 * 1024);
    this.#gc = options.gc ?? (globalThis as { gc?: GcFunction }).gc;
  }

  /** The chunk's stored form. Synchronous: the scratch buffer is free again on return. */
  encode(text: string): EncodedChunk {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    if (this.#scratch.length < text.length * 3) this.#scratch = Buffer.allocUnsafe(text.length * 3);
    const raw = this.#scratch.subarray(0, this.#scratch.write(text, 'utf8'));
    if (raw.length >= COMPRESS_MIN_BYTES) {
      this.#collectNow(raw.length);
      const z = deflateSync(raw, { level: COMPRESS_LEVEL });
      if (z.length < raw.length) return { content: z, compressed: ZLIB };
    }
    // A copy: the scratch buffer is reused by the next chunk.
    return { content: Uint8Array.prototype.slice.call(raw), compressed: RAW };
  }

  #collectNow(bytes: number): void {
    this.#sinceGc += bytes;
    if (this.#sinceGc < GC_EVERY_BYTES || this.#gc === undefined) return;
    this.#sinceGc = 0;
    // Async: V8 runs it as a task soon after, not in the middle of this append.
    this.#gc({ type: 'major', execution: 'async' });
  }
}

/** The chunk's text, whichever way it was stored. */
export function decodeChunk(content: Uint8Array, compressed: number): string {
  const buf = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  if (compressed === RAW) return buf.toString('utf8');
  if (compressed === ZLIB) return inflateSync(buf).toString('utf8');
  throw new Error(`log chunk compressed with unsupported method ${compressed}`);
}
