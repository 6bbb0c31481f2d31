// Buildbot's transfer steps: FileUpload, DirectoryUpload (worker → master), FileDownload
// and StringDownload (master → worker). The master-side file object goes to the worker by
// reference in the command arguments, in Buildbot 3.7's key order; the worker drives the
// transfer by calling it. A failed or interrupted transfer leaves no partial file behind.
// Master paths follow `master-path.ts`: a rendered one must stay inside the master's directory.
import { open } from 'node:fs/promises';
import { FAILURE, type Result, SUCCESS } from '../../results.js';
import { type StepValue, stepValue } from '../args.js';
import { Step, type StepOptions } from '../base.js';
import type { StepContext } from '../contract.js';
import { masterPathOption, refusingEscapes } from '../master-path.js';
import { StepOptionError, stepBoolean, stepMode, stepNumber, stepString } from '../option-values.js';
import {
  DirectoryWriter,
  FileReader,
  FileWriter,
  StringFileReader,
  type TarCompression,
} from './remote-files.js';

interface TransferOptions extends StepOptions {
  /** Relative to the builder's directory on the worker; default `build`. */
  readonly workdir?: StepValue<string>;
  /**
   * Largest transfer in bytes (for DirectoryUpload: the tar stream, both as sent and after
   * decompression); longer transfers are cut and the step fails. Uploads default to
   * DEFAULT_UPLOAD_MAXSIZE, downloads to no limit.
   */
  readonly maxsize?: StepValue<number | null>;
  /** Bytes per remote call. */
  readonly blocksize?: StepValue<number>;
}

/**
 * What an upload may bring when its step sets no maxsize: 1 GiB. Uploads land on the
 * master's disk, which also holds its database; a worker must not be able to fill it by
 * default, while build artifacts (binaries, documentation trees, test reports) rarely come
 * near a gigabyte. A step that needs more says so with `maxsize`.
 */
export const DEFAULT_UPLOAD_MAXSIZE = 1024 ** 3;

/** maxsize and blocksize for this build (defaults: `defaultMaxsize`, `blocksize`). */
async function sizes<M extends number | null>(
  ctx: StepContext,
  o: TransferOptions,
  blocksize: number,
  defaultMaxsize: M,
): Promise<{ maxsize: number | M; blocksize: number }> {
  const maxsize = o.maxsize === undefined ? null : await stepNumber(o.maxsize, ctx, 'maxsize');
  return {
    maxsize: maxsize ?? defaultMaxsize,
    blocksize: o.blocksize === undefined ? blocksize : await stepNumber(o.blocksize, ctx, 'blocksize'),
  };
}

const renderMode = (ctx: StepContext, mode: StepValue<number | null> | undefined) =>
  mode === undefined ? Promise.resolve(null) : stepMode(mode, ctx, 'mode');

async function transfer(
  ctx: StepContext,
  name: string,
  args: Record<string, unknown>,
  cleanup?: () => Promise<void>,
): Promise<Result> {
  let ok = false;
  try {
    const outcome = await ctx.runCommand({ name, args, logName: 'stdio' });
    ok = outcome.rc === 0 && !outcome.interrupted;
    return ok ? SUCCESS : FAILURE;
  } finally {
    if (!ok) await cleanup?.();
  }
}

/**
 * Runs an upload; one the writer had to cut at maxsize fails even if the worker (which
 * should have stopped itself) reports success.
 */
async function upload(
  ctx: StepContext,
  writer: FileWriter,
  name: string,
  args: Record<string, unknown>,
): Promise<Result> {
  const result = await transfer(ctx, name, args, () => writer.cancel());
  if (!writer.truncated) return result;
  await writer.cancel();
  const log = await ctx.addLog('stdio');
  await log.write('e', `upload larger than maxsize ${writer.maxsize} bytes: refused\n`);
  return FAILURE;
}

/** What every upload does first: resolve its paths, say what it does, show its link. */
async function startUpload(
  ctx: StepContext,
  o: TransferOptions & {
    workersrc: StepValue<string>;
    masterdest: StepValue<string>;
    url?: StepValue<string>;
    urlText?: StepValue<string>;
  },
): Promise<{ source: string; dest: string; workdir: string }> {
  const source = await stepValue(o.workersrc, ctx);
  const dest = await masterPathOption(ctx, o.masterdest, 'masterdest');
  await ctx.setState(`uploading ${source}`);
  if (o.url !== undefined) {
    const text = o.urlText === undefined ? source : await stepString(o.urlText, ctx, 'urlText');
    await ctx.addUrl(text, await stepValue(o.url, ctx));
  }
  const workdir = o.workdir === undefined ? 'build' : await stepValue(o.workdir, ctx);
  return { source, dest, workdir };
}

export interface FileUploadOptions extends TransferOptions {
  /** The file on the worker, relative to workdir. */
  readonly workersrc: StepValue<string>;
  /** Where it goes on the master, relative to the master's directory. */
  readonly masterdest: StepValue<string>;
  /** chmod applied to the uploaded file (e.g. 0o644, or "644" from a property); default the umask's. */
  readonly mode?: StepValue<number | null>;
  /** Keep the worker file's access and modification times. */
  readonly keepstamp?: StepValue<boolean>;
  /** A link shown on the step, e.g. where the web server publishes the file. */
  readonly url?: StepValue<string>;
  readonly urlText?: StepValue<string>;
}

export class FileUpload extends Step<FileUploadOptions> {
  constructor(options: FileUploadOptions) {
    super(options, 'upload');
  }

  run(ctx: StepContext): Promise<Result> {
    return refusingEscapes(ctx, async () => {
      const o = this.options;
      const { source, dest, workdir } = await startUpload(ctx, o);
      const { maxsize, blocksize } = await sizes(ctx, o, 256 * 1024, DEFAULT_UPLOAD_MAXSIZE);
      const keepstamp = o.keepstamp === undefined ? false : await stepBoolean(o.keepstamp, ctx, 'keepstamp');
      const writer = new FileWriter(dest, maxsize, await renderMode(ctx, o.mode));
      return upload(ctx, writer, 'uploadFile', {
        workdir,
        writer,
        maxsize,
        blocksize,
        keepstamp,
        workersrc: source,
      });
    });
  }
}

export interface DirectoryUploadOptions extends TransferOptions {
  readonly workersrc: StepValue<string>;
  /** The directory on the master the tree is extracted into. */
  readonly masterdest: StepValue<string>;
  /** Compress the tar stream on its way (`'gz'` or `'bz2'`); default none. */
  readonly compress?: StepValue<TarCompression>;
  readonly url?: StepValue<string>;
  readonly urlText?: StepValue<string>;
}

export class DirectoryUpload extends Step<DirectoryUploadOptions> {
  constructor(options: DirectoryUploadOptions) {
    super(options, 'upload');
  }

  run(ctx: StepContext): Promise<Result> {
    return refusingEscapes(ctx, async () => {
      const o = this.options;
      const { source, dest, workdir } = await startUpload(ctx, o);
      const { maxsize, blocksize } = await sizes(ctx, o, 16 * 1024, DEFAULT_UPLOAD_MAXSIZE);
      const compress = o.compress === undefined ? null : await stepValue(o.compress, ctx);
      if (compress !== null && compress !== 'gz' && compress !== 'bz2')
        throw new StepOptionError('compress', compress, "'gz', 'bz2' or null");
      const writer = new DirectoryWriter(dest, maxsize, compress);
      const result = await upload(ctx, writer, 'uploadDirectory', {
        workdir,
        writer,
        maxsize,
        blocksize,
        compress,
        workersrc: source,
      });
      if (writer.skipped.length > 0) {
        const log = await ctx.addLog('stdio');
        await log.write('h', writer.skipped.map((line) => `not extracted: ${line}\n`).join(''));
      }
      return result;
    });
  }
}

export interface DownloadOptions extends TransferOptions {
  /** Where the file goes on the worker, relative to workdir. */
  readonly workerdest: StepValue<string>;
  /** chmod applied on the worker (e.g. 0o755, or "755" from a property); default the worker's umask. */
  readonly mode?: StepValue<number | null>;
}

async function downloadArgs(
  ctx: StepContext,
  o: DownloadOptions,
  reader: unknown,
  workdir: string,
  dest: string,
): Promise<Record<string, unknown>> {
  const { maxsize, blocksize } = await sizes(ctx, o, 16 * 1024, null);
  return { maxsize, reader, blocksize, workdir, mode: await renderMode(ctx, o.mode), workerdest: dest };
}

export interface FileDownloadOptions extends DownloadOptions {
  /** The master file, relative to the master's directory. */
  readonly mastersrc: StepValue<string>;
}

export class FileDownload extends Step<FileDownloadOptions> {
  constructor(options: FileDownloadOptions) {
    super(options, 'download');
  }

  run(ctx: StepContext): Promise<Result> {
    return refusingEscapes(ctx, () => this.#download(ctx));
  }

  async #download(ctx: StepContext): Promise<Result> {
    const o = this.options;
    const source = await masterPathOption(ctx, o.mastersrc, 'mastersrc');
    const dest = await stepValue(o.workerdest, ctx);
    const workdir = o.workdir === undefined ? 'build' : await stepValue(o.workdir, ctx);
    await ctx.setState(`downloading to ${dest}`);
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(source, 'r');
    } catch {
      const log = await ctx.addLog('stderr');
      await log.write('e', `File ${JSON.stringify(source)} not available at master\n`);
      return FAILURE;
    }
    const reader = new FileReader(fh);
    try {
      return await transfer(ctx, 'downloadFile', await downloadArgs(ctx, o, reader, workdir, dest));
    } finally {
      // The worker closes the reader; this covers a transfer that never got that far.
      await reader.remote_close().catch(() => {});
    }
  }
}

export interface StringDownloadOptions extends DownloadOptions {
  /** The file's content, e.g. `interpolate('%(prop:got_revision)s')`. */
  readonly s: StepValue<string>;
}

export class StringDownload extends Step<StringDownloadOptions> {
  constructor(options: StringDownloadOptions) {
    super(options, 'string_download');
  }

  async run(ctx: StepContext): Promise<Result> {
    const o = this.options;
    const dest = await stepValue(o.workerdest, ctx);
    const workdir = o.workdir === undefined ? 'build' : await stepValue(o.workdir, ctx);
    await ctx.setState(`downloading to ${dest}`);
    const reader = new StringFileReader(await stepValue(o.s, ctx));
    return transfer(ctx, 'downloadFile', await downloadArgs(ctx, o, reader, workdir, dest));
  }
}

export const fileUpload = (o: FileUploadOptions) => new FileUpload(o);
export const directoryUpload = (o: DirectoryUploadOptions) => new DirectoryUpload(o);
export const fileDownload = (o: FileDownloadOptions) => new FileDownload(o);
export const stringDownload = (o: StringDownloadOptions) => new StringDownload(o);
