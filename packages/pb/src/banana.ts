/**
 * Banana: Twisted's s-expression wire encoding, the bottom layer of PB.
 *
 * A stream is a sequence of elements. Each element is
 *
 *     [header: 0..64 bytes, 0x00-0x7F] [type byte: 0x80-0x87] [body]
 *
 * The header is an unsigned integer in base 128, least significant group first.
 * Its meaning depends on the type byte:
 *
 *     0x80 LIST     header = number of child elements that follow
 *     0x81 INT      header = value (>= 0)
 *     0x82 STRING   header = length of the raw byte body that follows
 *     0x83 NEG      header = magnitude of a negative value
 *     0x84 FLOAT    no header; body = 8-byte big-endian IEEE-754 double
 *     0x85 LONGINT  header = value (Twisted uses it above 2^31-1)
 *     0x86 LONGNEG  header = magnitude (Twisted uses it below -2^31)
 *     0x87 VOCAB    header = index into the dialect's vocabulary; stands for that byte string
 *
 * The decoder here is incremental: bytes may arrive split at any boundary. Every
 * size a peer announces is checked against the limits *before* anything is
 * allocated for it, so a hostile peer can make us hold at most `maxMessageBytes`
 * of one unfinished element, never more.
 *
 * Values at this layer (see {@link BananaValue}): lists are arrays, STRING is a byte
 * array (a view into the received bytes: copy it to keep it), VOCAB is the shared {@link Token} for its word, integers are numbers (bigint beyond 2^53), floats are numbers
 * unless their value is integral, in which case they stay wrapped in {@link PyFloat}
 * so that `1.0` re-encodes as a FLOAT and not as an INT.
 */

import { PyFloat } from './values.js';
import { PB_VOCABULARY, vocabIndexOf, vocabIndexOfText } from './vocab.js';

export const LIST = 0x80;
export const INT = 0x81;
export const STRING = 0x82;
export const NEG = 0x83;
export const FLOAT = 0x84;
export const LONGINT = 0x85;
export const LONGNEG = 0x86;
export const VOCAB = 0x87;

/**
 * A byte string known in advance (a type tag, a command name), with its wire
 * encodings computed once. Encoding one is a copy of a few bytes.
 */
export class Token {
  readonly bytes: Buffer;
  /** Encoded under the `pb` dialect (VOCAB if the word is in the vocabulary). */
  readonly withVocab: Buffer;
  /** Encoded with no vocabulary (before dialect selection). */
  readonly plain: Buffer;
  constructor(readonly word: string) {
    this.bytes = Buffer.from(word, 'latin1');
    this.plain = encode(this.bytes, false);
    this.withVocab = encode(this.bytes, true);
  }
}

/**
 * The shared Token a VOCAB index stands for. The decoder hands out these shared
 * objects instead of allocating bytes per element; Jelly turns one into a fresh byte
 * array on the rare occasion it is user data.
 */
export function vocabToken(index: number): Token | undefined {
  return VOCAB_TOKENS[index];
}

/** Text to be sent as the UTF-8 bytes of a STRING, encoded straight into the output. */
export class Utf8 {
  constructor(readonly text: string) {}
}

/**
 * A value as Banana carries it, before Jelly gives it meaning. The decoder produces
 * numbers, bigints, PyFloats, byte arrays and arrays; the encoder also accepts
 * {@link Token} and {@link Utf8}, which are byte strings in a faster form.
 */
export type BananaValue = number | bigint | PyFloat | Uint8Array | Token | Utf8 | BananaValue[];

export interface BananaLimits {
  /** Longest STRING accepted or sent, in bytes. Twisted's SIZE_LIMIT: 640 KiB. */
  maxStringLength: number;
  /** Most children one LIST may announce. Twisted uses the same 640 Ki. */
  maxListLength: number;
  /** Deepest LIST nesting accepted. Twisted has none; deep nesting costs us stack in Jelly. */
  maxDepth: number;
  /** Most bytes one top-level element may span: caps what an unfinished element can hold. */
  maxMessageBytes: number;
}

export const DEFAULT_LIMITS: Readonly<BananaLimits> = Object.freeze({
  maxStringLength: 640 * 1024,
  maxListLength: 640 * 1024,
  maxDepth: 200,
  maxMessageBytes: 16 * 1024 * 1024,
});

/**
 * What a server accepts from a peer that has not logged in. A login's largest element (a
 * `respond` call: a 16-byte response and a reference) is about 60 bytes; these leave room
 * for long user names while capping what an anonymous connection can make us hold.
 */
export const PRE_LOGIN_LIMITS: Readonly<BananaLimits> = Object.freeze({
  maxStringLength: 2 * 1024,
  maxListLength: 256,
  maxDepth: 16,
  maxMessageBytes: 4 * 1024,
});

/** Twisted refuses headers longer than this many base-128 digits. */
export const MAX_HEADER_BYTES = 64;

/** A peer broke the Banana rules; the connection that produced it must be closed. */
export class BananaError extends Error {
  override name = 'BananaError';
}

const TWO_31 = 2 ** 31;

// ---------------------------------------------------------------------------
// Encoding

/**
 * A growable output buffer. Encoding writes straight into it; PB messages are
 * small, so a single buffer reused across messages avoids most allocation.
 */
export class ByteSink {
  buf: Buffer;
  len = 0;
  constructor(initial = 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }
  ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  /** Copies out what was written and resets the sink for reuse. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.len);
    this.buf.copy(out, 0, 0, this.len);
    this.len = 0;
    return out;
  }
}

function writeHeader(sink: ByteSink, value: number, type: number): void {
  sink.ensure(10);
  const b = sink.buf;
  if (value === 0) {
    b[sink.len++] = 0;
  } else {
    while (value > 0) {
      b[sink.len++] = value & 0x7f;
      value = Math.floor(value / 128);
    }
  }
  b[sink.len++] = type;
}

function writeBigHeader(sink: ByteSink, value: bigint, type: number): void {
  sink.ensure(MAX_HEADER_BYTES + 1);
  if (value === 0n) sink.buf[sink.len++] = 0;
  while (value > 0n) {
    sink.buf[sink.len++] = Number(value & 0x7fn);
    value >>= 7n;
  }
  sink.buf[sink.len++] = type;
}

const MAX_INT_MAGNITUDE = (1n << BigInt(7 * MAX_HEADER_BYTES)) - 1n;

function writeInteger(sink: ByteSink, v: number | bigint): void {
  if (typeof v === 'number') {
    if (v >= 0) writeHeader(sink, v, v < TWO_31 ? INT : LONGINT);
    else writeHeader(sink, -v, v >= -TWO_31 ? NEG : LONGNEG);
    return;
  }
  const mag = v < 0n ? -v : v;
  if (mag > MAX_INT_MAGNITUDE) throw new BananaError(`integer too large for Banana: ${v}`);
  if (v >= 0n) writeBigHeader(sink, v, v < BigInt(TWO_31) ? INT : LONGINT);
  else writeBigHeader(sink, mag, v >= -BigInt(TWO_31) ? NEG : LONGNEG);
}

function writeFloat(sink: ByteSink, v: number): void {
  sink.ensure(9);
  sink.buf[sink.len++] = FLOAT;
  sink.buf.writeDoubleBE(v, sink.len);
  sink.len += 8;
}

/**
 * Encodes one value (recursively) into `sink`. With `useVocab`, every byte string
 * equal to a vocabulary word goes out as VOCAB, exactly as Twisted does after the
 * `pb` dialect is chosen — including user data that happens to spell `b'None'`.
 */
export function encodeInto(
  sink: ByteSink,
  value: BananaValue,
  useVocab: boolean,
  maxStringLength = DEFAULT_LIMITS.maxStringLength,
): void {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && !Object.is(value, -0)) {
      if (Number.isSafeInteger(value)) writeInteger(sink, value);
      else writeInteger(sink, BigInt(value));
    } else {
      writeFloat(sink, value);
    }
  } else if (value instanceof Token) {
    const bytes = useVocab ? value.withVocab : value.plain;
    sink.ensure(bytes.length);
    bytes.copy(sink.buf, sink.len);
    sink.len += bytes.length;
  } else if (value instanceof Utf8) {
    writeText(sink, value.text, useVocab, maxStringLength);
  } else if (value instanceof Uint8Array) {
    if (useVocab) {
      const idx = vocabIndexOf(value);
      if (idx !== 0) {
        writeHeader(sink, idx, VOCAB);
        return;
      }
    }
    if (value.length > maxStringLength) {
      throw new BananaError(`byte string of ${value.length} bytes exceeds the ${maxStringLength}-byte limit`);
    }
    writeHeader(sink, value.length, STRING);
    sink.ensure(value.length);
    sink.buf.set(value, sink.len);
    sink.len += value.length;
  } else if (Array.isArray(value)) {
    writeHeader(sink, value.length, LIST);
    for (const item of value) encodeInto(sink, item, useVocab, maxStringLength);
  } else if (typeof value === 'bigint') {
    writeInteger(sink, value);
  } else if (value instanceof PyFloat) {
    writeFloat(sink, value.value);
  } else {
    throw new BananaError(`cannot Banana-encode ${describe(value)}`);
  }
}

function writeText(sink: ByteSink, text: string, useVocab: boolean, maxStringLength: number): void {
  // Vocabulary words are ASCII, so text equals a word exactly when its UTF-8 bytes do.
  if (useVocab && text.length <= 13) {
    const idx = vocabIndexOfText(text);
    if (idx !== 0) {
      writeHeader(sink, idx, VOCAB);
      return;
    }
  }
  const len = text.length < 64 && isAscii(text) ? text.length : Buffer.byteLength(text, 'utf8');
  if (len > maxStringLength) {
    throw new BananaError(`text of ${len} bytes exceeds the ${maxStringLength}-byte limit`);
  }
  writeHeader(sink, len, STRING);
  sink.ensure(len);
  if (len === text.length && len < 64) {
    const b = sink.buf;
    let at = sink.len;
    for (let i = 0; i < len; i++) b[at++] = text.charCodeAt(i);
  } else {
    sink.buf.write(text, sink.len, len, 'utf8');
  }
  sink.len += len;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Encodes one top-level element to a fresh buffer. */
export function encode(value: BananaValue, useVocab = true): Buffer {
  const sink = new ByteSink(64);
  encodeInto(sink, value, useVocab);
  return sink.take();
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return `an object of class ${v.constructor?.name ?? 'Object'}`;
  return `a ${typeof v}`;
}

// ---------------------------------------------------------------------------
// Decoding

interface OpenList {
  items: BananaValue[];
  remaining: number;
}

/**
 * Incremental Banana decoder. Feed it bytes with {@link push}; it calls `onElement`
 * for each complete top-level element, in order. After a {@link BananaError} the
 * decoder is dead: the stream cannot be resynchronised, so the caller must drop the
 * connection.
 */
export class BananaDecoder {
  /** When false (dialect `none`, or before negotiation) a VOCAB element is an error. */
  vocabEnabled: boolean;
  private limits: BananaLimits;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes we know must be buffered before parsing can make progress again. */
  private needed = 1;
  private stack: OpenList[] = [];
  private elementBytes = 0;
  private failed: BananaError | null = null;

  constructor(
    private readonly onElement: (value: BananaValue) => void,
    options: { limits?: Partial<BananaLimits>; vocab?: boolean } = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.vocabEnabled = options.vocab ?? true;
  }

  /** Bytes received but not yet part of a complete atom. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Replaces the limits, e.g. to raise them once the peer has logged in. */
  setLimits(limits: Partial<BananaLimits>): void {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Drops everything buffered (the connection is gone); further input is refused. */
  dispose(): void {
    this.failed ??= new BananaError('decoder disposed');
    this.chunks = [];
    this.buffered = 0;
    this.stack = [];
  }

  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.chunks.push(buf);
    this.buffered += buf.length;
    if (this.buffered < this.needed) {
      this.checkMessageSize(0);
      return;
    }
    const data = this.chunks.length === 1 ? buf : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    try {
      const used = this.parse(data);
      if (used < data.length) {
        // A small remainder of a large read is copied: a view would keep the whole read alive.
        const rest = used > data.length / 2 ? Buffer.from(data.subarray(used)) : data.subarray(used);
        this.chunks.push(rest);
        this.buffered = rest.length;
        this.checkMessageSize(0);
      }
    } catch (err) {
      this.failed = err instanceof BananaError ? err : new BananaError(String(err));
      this.chunks = [];
      this.buffered = 0;
      this.stack = [];
      throw this.failed;
    }
  }

  private checkMessageSize(extra: number): void {
    if (this.elementBytes + this.buffered + extra > this.limits.maxMessageBytes) {
      this.failed = new BananaError(`element exceeds the ${this.limits.maxMessageBytes}-byte message limit`);
      this.chunks = [];
      this.buffered = 0;
      throw this.failed;
    }
  }

  /** Parses as many atoms as `data` holds; returns how many bytes were consumed. */
  private parse(data: Buffer): number {
    let pos = 0;
    const end = data.length;
    const { maxStringLength, maxListLength, maxDepth } = this.limits;
    while (pos < end) {
      const start = pos;
      // Read the base-128 header up to the type byte.
      let num = 0;
      let big: bigint | null = null;
      let mult = 1;
      let i = pos;
      let headerLen = 0;
      while (i < end && data[i]! < 0x80) {
        headerLen++;
        if (headerLen > MAX_HEADER_BYTES) {
          throw new BananaError(`header longer than ${MAX_HEADER_BYTES} bytes`);
        }
        const digit = data[i]!;
        if (big === null && headerLen <= 7) {
          num += digit * mult;
          mult *= 128;
        } else {
          if (big === null) big = BigInt(num);
          big += BigInt(digit) << BigInt(7 * (headerLen - 1));
        }
        i++;
      }
      if (i >= end) {
        this.needed = i - start + 1;
        return start;
      }
      const type = data[i]!;
      i++;
      let value: BananaValue;
      switch (type) {
        case LIST: {
          const count = big === null ? num : Number(big);
          if (count > maxListLength) throw new BananaError(`list of ${count} items exceeds the limit`);
          if (this.stack.length >= maxDepth) throw new BananaError(`lists nested deeper than ${maxDepth}`);
          this.elementBytes += i - start;
          pos = i;
          if (count === 0) {
            value = [];
            break;
          }
          this.stack.push({ items: [], remaining: count });
          continue;
        }
        case INT:
        case LONGINT:
          value = big === null ? num : narrow(big);
          break;
        case NEG:
        case LONGNEG:
          value = big === null ? -num : narrow(-big);
          break;
        case STRING: {
          const len = big === null ? num : Number(big);
          if (len > maxStringLength) throw new BananaError(`string of ${len} bytes exceeds the limit`);
          if (end - i < len) {
            this.needed = i - start + len;
            this.checkMessageSize(this.needed);
            return start;
          }
          // A view, not a copy: most strings are tags or text and die young. Jelly copies
          // the bytes it hands to applications, so no view outlives this element for long.
          value = data.subarray(i, i + len);
          i += len;
          break;
        }
        case FLOAT: {
          if (end - i < 8) {
            this.needed = i - start + 8;
            return start;
          }
          const f = data.readDoubleBE(i);
          i += 8;
          value = Number.isInteger(f) ? new PyFloat(f) : f;
          break;
        }
        case VOCAB: {
          if (!this.vocabEnabled) throw new BananaError('VOCAB element received before the pb dialect');
          const word = big === null ? vocabToken(num) : undefined;
          if (!word) throw new BananaError(`unknown VOCAB index ${big ?? num}`);
          value = word;
          break;
        }
        default:
          throw new BananaError(`invalid type byte 0x${type.toString(16)}`);
      }
      this.elementBytes += i - start;
      if (this.elementBytes > this.limits.maxMessageBytes) this.checkMessageSize(0);
      pos = i;
      this.needed = 1;
      // Attach the finished atom to its list, closing every list it completes.
      for (;;) {
        const top = this.stack[this.stack.length - 1];
        if (!top) {
          this.elementBytes = 0;
          this.onElement(value);
          break;
        }
        top.items.push(value);
        if (--top.remaining > 0) break;
        this.stack.pop();
        value = top.items;
      }
    }
    this.needed = 1;
    return pos;
  }
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

// Built last: a Token encodes itself with the encoder above.
const VOCAB_TOKENS: ReadonlyArray<Token | undefined> = PB_VOCABULARY.map((w) =>
  w ? new Token(w) : undefined,
);
