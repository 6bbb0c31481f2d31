// A push parser for the tar streams a worker's DirectoryUpload sends (Python's tarfile in
// PAX format, or GNU/ustar from other workers). It only reads: what to do with an entry is
// decided by the extractor. Every header is checksummed and every length bounded, so
// garbage or a hostile stream ends in a TarFormatError instead of an unbounded buffer.

/** The uploaded stream is not a tar archive we can read. */
export class TarFormatError extends Error {
  override readonly name = 'TarFormatError';
}

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  readonly path: string;
  readonly type: TarEntryType;
  /** The raw type flag, for messages about entries that are skipped. */
  readonly typeflag: string;
  readonly mode: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  readonly size: number;
  readonly linkpath: string;
}

export type TarEvent =
  | { readonly kind: 'entry'; readonly entry: TarEntry }
  | { readonly kind: 'data'; readonly bytes: Buffer }
  | { readonly kind: 'end' };

const BLOCK = 512;
/** PAX and GNU long-name records hold names, not data: more than this is not an honest archive. */
const MAX_META_SIZE = 1 << 20;

interface Overrides {
  path?: string;
  linkpath?: string;
  size?: number;
  mtime?: number;
}

type State =
  | { readonly at: 'header' }
  | { readonly at: 'body'; remaining: number; padding: number }
  | { readonly at: 'meta'; readonly typeflag: string; remaining: number; padding: number; parts: Buffer[] }
  | { readonly at: 'padding'; remaining: number }
  | { readonly at: 'end' };

export class TarParser {
  #state: State = { at: 'header' };
  #pending: Buffer = Buffer.alloc(0);
  #global: Overrides = {};
  #next: Overrides = {};

  get ended(): boolean {
    return this.#state.at === 'end';
  }

  /** Feeds the next bytes of the (decompressed) stream; returns what they complete, in order. */
  push(chunk: Buffer): TarEvent[] {
    const events: TarEvent[] = [];
    let data = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = Buffer.alloc(0);
    while (data.length > 0) {
      const state = this.#state;
      if (state.at === 'end') return events;
      if (state.at === 'header') {
        if (data.length < BLOCK) {
          this.#pending = Buffer.from(data);
          return events;
        }
        const event = this.#header(data.subarray(0, BLOCK));
        if (event) events.push(event);
        data = data.subarray(BLOCK);
        continue;
      }
      if (state.at === 'padding') {
        const n = Math.min(state.remaining, data.length);
        state.remaining -= n;
        data = data.subarray(n);
        if (state.remaining === 0) this.#state = { at: 'header' };
        continue;
      }
      const n = Math.min(state.remaining, data.length);
      const bytes = data.subarray(0, n);
      data = data.subarray(n);
      state.remaining -= n;
      if (state.at === 'body') {
        if (n > 0) events.push({ kind: 'data', bytes });
      } else state.parts.push(Buffer.from(bytes));
      if (state.remaining > 0) continue;
      if (state.at === 'meta') this.#applyMeta(state.typeflag, Buffer.concat(state.parts));
      this.#state = state.padding > 0 ? { at: 'padding', remaining: state.padding } : { at: 'header' };
    }
    return events;
  }

  /** The stream ended; a stream cut inside an entry is an error, one without end blocks is not. */
  finish(): TarEvent[] {
    if (this.#state.at === 'end') return [];
    if (this.#state.at !== 'header' || this.#pending.length > 0) {
      throw new TarFormatError('the archive ends in the middle of an entry');
    }
    this.#state = { at: 'end' };
    return [{ kind: 'end' }];
  }

  #header(block: Buffer): TarEvent | null {
    if (block.every((b) => b === 0)) {
      this.#state = { at: 'end' };
      return { kind: 'end' };
    }
    if (checksum(block) !== octal(block, 148, 8, 'checksum')) {
      throw new TarFormatError('bad header checksum: not a tar archive, or a corrupt one');
    }
    const typeflag = block[156] === 0 ? '0' : String.fromCharCode(block[156]!);
    const size = number(block, 124, 12, 'size');
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > MAX_META_SIZE) throw new TarFormatError(`a ${typeflag} header of ${size} bytes`);
      this.#state = { at: 'meta', typeflag, remaining: size, padding, parts: [] };
      return null;
    }
    const ustar = block.toString('latin1', 257, 262) === 'ustar';
    const prefix = ustar ? text(block, 345, 155) : '';
    const name = text(block, 0, 100);
    const o = { ...this.#global, ...this.#next };
    this.#next = {};
    const entry: TarEntry = {
      path: o.path ?? (prefix ? `${prefix}/${name}` : name),
      type: entryType(typeflag),
      typeflag,
      mode: octal(block, 100, 8, 'mode'),
      mtime: o.mtime ?? number(block, 136, 12, 'mtime'),
      size: o.size ?? size,
      linkpath: o.linkpath ?? text(block, 157, 100),
    };
    // Links and directories carry no data whatever their size field says.
    const bodySize = entry.type === 'file' || entry.type === 'other' ? entry.size : 0;
    const bodyPadding = (BLOCK - (bodySize % BLOCK)) % BLOCK;
    this.#state = { at: 'body', remaining: bodySize, padding: bodyPadding };
    return { kind: 'entry', entry };
  }

  #applyMeta(typeflag: string, body: Buffer): void {
    if (typeflag === 'L') this.#next.path = cString(body);
    else if (typeflag === 'K') this.#next.linkpath = cString(body);
    else Object.assign(typeflag === 'g' ? this.#global : this.#next, paxRecords(body));
  }
}

function entryType(typeflag: string): TarEntryType {
  switch (typeflag) {
    case '0':
    case '7':
      return 'file';
    case '5':
      return 'directory';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    default:
      return 'other';
  }
}

/** PAX extended header records: `<length> <key>=<value>\n`, of which we use four keys. */
function paxRecords(body: Buffer): Overrides {
  const out: Overrides = {};
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const length = space < 0 ? Number.NaN : Number(body.toString('latin1', at, space));
    if (!Number.isInteger(length) || length <= 0 || at + length > body.length) {
      throw new TarFormatError('malformed PAX header');
    }
    const record = body.toString('utf8', space + 1, at + length - 1);
    at += length;
    const eq = record.indexOf('=');
    if (eq < 0) throw new TarFormatError('malformed PAX record');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') out.path = value;
    else if (key === 'linkpath') out.linkpath = value;
    else if (key === 'size' || key === 'mtime') {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0 || (key === 'size' && !Number.isSafeInteger(n))) {
        throw new TarFormatError(`malformed PAX ${key} ${JSON.stringify(value)}`);
      }
      out[key] = n;
    }
  }
  return out;
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}

function text(block: Buffer, at: number, length: number): string {
  return cString(block.subarray(at, at + length));
}

function octal(block: Buffer, at: number, length: number, field: string): number {
  const s = block
    .toString('latin1', at, at + length)
    .replace(/[\0 ]+$/, '')
    .trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`bad ${field} field in a tar header`);
  return Number.parseInt(s, 8);
}

/** Octal, or GNU's base-256 for values that do not fit (high bit of the first byte set). */
function number(block: Buffer, at: number, length: number, field: string): number {
  if ((block[at]! & 0x80) === 0) return octal(block, at, length, field);
  if (block[at]! & 0x40) throw new TarFormatError(`negative ${field} in a tar header`);
  let n = block[at]! & 0x3f;
  for (let i = at + 1; i < at + length; i++) n = n * 256 + block[i]!;
  if (!Number.isSafeInteger(n)) throw new TarFormatError(`${field} too large in a tar header`);
  return n;
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}
